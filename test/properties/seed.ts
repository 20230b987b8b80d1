/**
 * The fast-check seed: FC_SEED replays a failure, CI runs a fixed one so a red build can be
 * replayed, and elsewhere each run explores new cases. Every run prints the seed it used.
 */
export const SEED = process.env.FC_SEED
  ? Number(process.env.FC_SEED)
  : process.env.CI
    ? 20_260_401
    : Math.floor(Math.random() * 2 ** 31);
