// Needs aws-cdk-lib and constructs only, so that it can be copied into another CDK app.
import { Token } from 'aws-cdk-lib';
import type {
  CfnAuthorizer,
  HttpRouteAuthorizerBindOptions,
  HttpRouteAuthorizerConfig,
  IHttpApi,
  IHttpRouteAuthorizer,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import type { IConstruct } from 'constructs';

/** A mini program AppID as WeChat issues it, and as tokens carry it in `aud`. */
export const APP_ID_PATTERN = /^wx[0-9a-z]{16}$/;

/** API Gateway allows 50 audiences per JWT authorizer. */
export const MAX_APP_IDS = 50;

/** What {@link WeappSessionAuthorizer} checks tokens against. */
export interface WeappSessionAuthorizerProps {
  /**
   * The issuer of the tokens: the weapp-openid stack's `Issuer` output (`https://…`, no
   * trailing slash), for example `Fn.importValue('WeappOpenid-Issuer')`.
   */
  readonly issuer: string;
  /** The mini programs whose tokens the routes accept (their AppIDs, the tokens' `aud`); 1 to 50. */
  readonly appIds: readonly string[];
}

/** Route options that put a route behind the authorizer and require a verified phone number. */
export interface PhoneRouteOptions {
  readonly authorizer: IHttpRouteAuthorizer;
  readonly authorizationScopes: string[];
}

/**
 * Protects routes of any HTTP API with weapp-openid's session tokens, verified by API
 * Gateway's own JWT authorizer: no authorizer code runs, and the route's Lambda finds the
 * verified claims in `requestContext.authorizer.jwt.claims` (`sub` is the openid, `aud` the
 * AppID, `phone_number` once the user has bound one). Give it as `authorizer` to
 * `addRoutes`; one instance serves one API. For a route that only users with a verified
 * phone number may call, spread {@link requirePhone} into `addRoutes` instead.
 */
export class WeappSessionAuthorizer implements IHttpRouteAuthorizer {
  /** Where API Gateway looks for the token: `Authorization: Bearer <token>`. */
  static readonly IDENTITY_SOURCE = '$request.header.Authorization';

  /**
   * The scope a token carries (`"scope": "phone"`) once its user's phone number is verified.
   * API Gateway admits a route that lists it in `authorizationScopes` only with such a token,
   * and refuses any other, valid or not, before the route's integration runs.
   */
  static readonly PHONE_SCOPE = 'phone';

  readonly authorizationType = 'JWT';
  private readonly id: string;
  private readonly jwt: HttpJwtAuthorizer;
  private boundTo: { readonly api: IHttpApi; readonly scope: IConstruct } | undefined;

  /** @param id the construct id of the authorizer, created in the API on the first route. */
  constructor(id: string, props: WeappSessionAuthorizerProps) {
    this.id = id;
    checkIssuer(props.issuer);
    checkAppIds(props.appIds);
    this.jwt = new HttpJwtAuthorizer(id, props.issuer, {
      jwtAudience: [...props.appIds],
      identitySource: [WeappSessionAuthorizer.IDENTITY_SOURCE],
    });
  }

  /**
   * `addRoutes` options for a route that only users with a verified phone number may call:
   * this authorizer, and the `phone` scope, which API Gateway checks against the token's
   * `scope` claim. `api.addRoutes({ path, methods, integration, ...sessions.requirePhone() })`
   * is the same as giving `authorizer` and `authorizationScopes: [PHONE_SCOPE]` by hand.
   */
  requirePhone(): PhoneRouteOptions {
    return { authorizer: this, authorizationScopes: [WeappSessionAuthorizer.PHONE_SCOPE] };
  }

  bind(options: HttpRouteAuthorizerBindOptions): HttpRouteAuthorizerConfig {
    const api = options.route.httpApi;
    // HttpJwtAuthorizer keeps the first API's authorizer and would hand its id to a route of
    // another API, which CloudFormation rejects only at deploy time.
    if (this.boundTo && this.boundTo.api !== api) {
      throw new Error(
        `WeappSessionAuthorizer ${this.id} already serves another API: create one per API.`,
      );
    }
    this.boundTo ??= { api, scope: options.scope };
    return this.jwt.bind(options);
  }

  /**
   * The authorizer's CloudFormation resource, once a route uses it: for `DependsOn`, since
   * API Gateway reads the issuer's discovery document and JWKS when it creates the authorizer.
   */
  get cfnAuthorizer(): CfnAuthorizer {
    if (!this.boundTo) throw new Error(`WeappSessionAuthorizer ${this.id} is on no route yet.`);
    return this.boundTo.scope.node.findChild(this.id).node.defaultChild as CfnAuthorizer;
  }
}

function checkIssuer(issuer: string): void {
  if (Token.isUnresolved(issuer)) return;
  if (!/^https:\/\/[^/?#]+(\/[^?#]*[^/?#])?$/.test(issuer)) {
    throw new Error(
      `WeappSessionAuthorizer: the issuer must be an https URL without a trailing slash, exactly as the tokens' iss (the Issuer output), not "${issuer}".`,
    );
  }
}

function checkAppIds(appIds: readonly string[]): void {
  if (appIds.length < 1 || appIds.length > MAX_APP_IDS) {
    throw new Error(
      `WeappSessionAuthorizer: give 1 to ${MAX_APP_IDS} AppIDs (API Gateway's audience limit), not ${appIds.length}.`,
    );
  }
  const bad = appIds.find((appId) => !Token.isUnresolved(appId) && !APP_ID_PATTERN.test(appId));
  if (bad !== undefined) {
    throw new Error(
      `WeappSessionAuthorizer: "${bad}" is not an AppID (wx and 16 lowercase letters or digits).`,
    );
  }
}
