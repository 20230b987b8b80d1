import { Duration, Stack } from 'aws-cdk-lib';
import {
  Dashboard,
  GraphWidget,
  type IMetric,
  type IWidget,
  MathExpression,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { METRICS } from '../functions/commons/names.ts';
import { loginOutcome, storeFailures } from './login-alarms.ts';

const PERIOD = Duration.minutes(5);

/** CloudWatch's dynamic label: each line of a SEARCH is named by its `outcome`. */
const OUTCOME_LABEL = `\${PROP('Dim.outcome')}`;

/** What {@link LoginDashboard} shows besides the logins. */
export interface LoginDashboardProps {
  readonly fn: IFunction;
  /** Sessions are on, so `POST /phone` can be served: its binds are graphed. */
  readonly phone: boolean;
  /** The users table exists: its failures are graphed. */
  readonly users: boolean;
}

/**
 * One CloudWatch dashboard for the function, named `{stack}-{region}` (dashboard names are
 * per account, not per region): logins and phone binds by outcome, WeChat's latency, the
 * users table's and KMS's failures, and the function's errors and throttles. The outcomes are
 * found with SEARCH, so a new problem code shows up without a change here.
 */
export class LoginDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: LoginDashboardProps) {
    super(scope, id);
    const { fn } = props;
    const stack = Stack.of(this);
    const service = fn.functionName;
    const widgets: IWidget[] = [
      graph('Logins by outcome', [byOutcome(service, METRICS.logins, 'Sum')]),
      graph('WeChat latency (ms), by outcome', [
        byOutcome(service, METRICS.wechatLatency, 'p50'),
        byOutcome(service, METRICS.wechatLatency, 'p99'),
      ]),
      graph('KMS and configuration failures (logins)', [
        loginOutcome(fn, 'session_unavailable').with({
          label: 'session_unavailable: KMS could not sign',
        }),
        loginOutcome(fn, 'misconfigured').with({
          label: 'misconfigured: the signing key or the WeChat credentials (see the log reason)',
        }),
      ]),
      graph('Function errors and throttles', [
        fn.metricErrors({ period: PERIOD, statistic: 'Sum', label: 'Errors' }),
        fn.metricThrottles({ period: PERIOD, statistic: 'Sum', label: 'Throttles' }),
      ]),
    ];
    if (props.phone) {
      widgets.push(
        graph('Phone binds by outcome', [byOutcome(service, METRICS.phoneBinds, 'Sum')]),
      );
    }
    if (props.users) {
      widgets.push(
        graph('Users table failures', [storeFailures(fn).with({ label: METRICS.storeFailures })]),
      );
    }
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${stack.stackName}-${stack.region}`,
      defaultInterval: Duration.hours(24),
    });
    // Two graphs per row.
    for (let i = 0; i < widgets.length; i += 2)
      this.dashboard.addWidgets(...widgets.slice(i, i + 2));
  }
}

function graph(title: string, left: IMetric[]): GraphWidget {
  return new GraphWidget({ title, left, width: 12, height: 6, period: PERIOD });
}

/**
 * One line per outcome the function has written for this metric: the EMF records carry
 * `service` and `outcome`, and `statistic` is `Sum` for a count, a percentile for latency.
 */
function byOutcome(service: string, metricName: string, statistic: string): MathExpression {
  const schema = `{${METRICS.namespace},${[...METRICS.dimensions].sort().join(',')}}`;
  return new MathExpression({
    expression: `SEARCH('${schema} MetricName="${metricName}" service="${service}"', '${statistic}', ${PERIOD.toSeconds()})`,
    usingMetrics: {},
    label: statistic === 'Sum' ? OUTCOME_LABEL : `${statistic} ${OUTCOME_LABEL}`,
    period: PERIOD,
  });
}
