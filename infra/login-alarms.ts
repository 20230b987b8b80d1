import { Duration, Validations } from 'aws-cdk-lib';
import type { IHttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  type Alarm,
  ComparisonOperator,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRICS, OPERATOR_OUTCOMES } from '../functions/commons/names.ts';

type OperatorOutcome = (typeof OPERATOR_OUTCOMES)[number];

const PERIOD = Duration.minutes(5);

/** One alarm at ≥ 1 for each outcome that always needs the operator. */
const OPERATOR_ALARMS: Record<OperatorOutcome, { id: string; description: string }> = {
  misconfigured: {
    id: 'Misconfigured',
    description:
      'WeChat rejected the AppID/AppSecret, the secret is malformed, or the session signing key is unusable: the log line\'s "reason" says which (docs/operators.md).',
  },
  secret_unavailable: {
    id: 'SecretUnavailable',
    description:
      'The function could not read its secret from Secrets Manager (permissions, KMS key, or an outage).',
  },
  session_unavailable: {
    id: 'SessionUnavailable',
    description:
      "The function could not sign session tokens with KMS (throttled at the account's RSA request quota, or an outage): logins were answered 503.",
  },
};

/** What {@link LoginAlarms} watches. */
export interface LoginAlarmsProps {
  readonly fn: IFunction;
  readonly stage: IHttpStage;
  /** When given, every alarm notifies this address through an SNS topic. */
  readonly alarmEmail?: string;
  /** Whether the users table exists, whose failures then have an alarm of their own. */
  readonly users?: boolean;
}

/**
 * The alarms an operator needs: the function failing or throttled, the API answering 5xx,
 * and the outcomes that always mean the operator must act (OPERATOR_OUTCOMES). Missing data is "OK": no traffic is not an incident.
 */
export class LoginAlarms extends Construct {
  /** Every alarm, for tests and for wiring extra actions. */
  readonly alarms: Alarm[] = [];
  /** The notification topic, when an email was given. */
  readonly topic: Topic | undefined;

  constructor(scope: Construct, id: string, props: LoginAlarmsProps) {
    super(scope, id);
    const { fn, stage } = props;
    this.add(
      'FunctionErrors',
      fn.metricErrors({ period: PERIOD, statistic: 'Sum' }),
      1,
      'The login function crashed or timed out (an unhandled error, not a problem+json answer). See its log group.',
    );
    this.add(
      'FunctionThrottles',
      fn.metricThrottles({ period: PERIOD, statistic: 'Sum' }),
      1,
      'Lambda throttled the login function: the account or reserved concurrency limit was reached.',
    );
    // ≥ 5, not ≥ 1: a single WeChat hiccup (upstream_busy/timeout) is normal and not worth a page;
    // the outcomes that always need the operator have their own alarms at ≥ 1 below.
    this.add(
      'Api5xx',
      stage.metricServerError({ period: PERIOD, statistic: 'Sum' }),
      5,
      'The login API answered 5xx at least 5 times in 5 minutes. The function log line of each request says why (field "outcome").',
    );
    for (const outcome of OPERATOR_OUTCOMES) {
      const { id, description } = OPERATOR_ALARMS[outcome];
      this.add(id, loginOutcome(fn, outcome), 1, description);
    }
    if (props.users) {
      // ≥ 1: the request itself may have succeeded (a login without its phone claims, a bound
      // number not kept), so no other alarm sees it, and a throttled or denied table needs the
      // operator whatever the count.
      this.add(
        'UserStoreFailures',
        storeFailures(fn),
        1,
        'The users table could not be read or written (throttled, unreachable, or denied): logins went on without the phone claims, a bound number may not have been kept, and DELETE /me answered 503. The log line\'s "reason" says why.',
      );
    }

    if (props.alarmEmail) {
      this.topic = new Topic(this, 'Topic', {
        displayName: 'weapp-openid alarms',
        enforceSSL: true,
      });
      this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
      Validations.of(this.topic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key, and the alarm messages carry no secret or personal data, so a customer-managed key would cost $1/month for nothing.',
      });
      Validations.of(this.topic).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'The only subscription is an operator email; a dead-letter queue for undeliverable alarm emails would itself be unwatched. The alarm state stays visible in CloudWatch.',
      });
      const action = new SnsAction(this.topic);
      for (const alarm of this.alarms) alarm.addAlarmAction(action);
    }
  }

  private add(id: string, metric: Metric, threshold: number, description: string): void {
    this.alarms.push(
      metric.createAlarm(this, id, {
        alarmDescription: description,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
  }
}

/** Logins with one outcome, summed over 5 minutes. */
export function loginOutcome(fn: IFunction, outcome: string): Metric {
  return new Metric({
    namespace: METRICS.namespace,
    metricName: METRICS.logins,
    dimensionsMap: { service: fn.functionName, outcome },
    period: PERIOD,
    statistic: 'Sum',
  });
}

/** Requests on which the users table failed, by service only, summed over 5 minutes. */
export function storeFailures(fn: IFunction): Metric {
  return new Metric({
    namespace: METRICS.namespace,
    metricName: METRICS.storeFailures,
    dimensionsMap: { service: fn.functionName },
    period: PERIOD,
    statistic: 'Sum',
  });
}
