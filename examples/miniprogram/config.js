// The one place to change: where the backend is (no trailing /openid).
// Local development: `npm start` serves http://localhost:2020 (turn off domain checking in the
// devtools: Details → Local Settings → "Do not verify valid domain names").
// Production: the BaseUrl output of `cdk deploy` (not EndpointUrl, which ends in /openid), a
// domain registered in the mini program admin console under request legal domains.
module.exports = {
  BASE_URL: 'http://localhost:2020',
};
