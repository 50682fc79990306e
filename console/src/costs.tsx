import { costBreakdown, messageUsage, PRICES, transactionUsage, usd } from 'concord-aws/cost';
import { perMillion, Section } from './components.js';

/** What a message and a transaction cost, by the cost model, before anything ran. */
export function CostsView() {
  const sizes = [100, 800, 1024, 4096, 64 * 1024];
  const participants = ['bank-a', 'bank-b'];
  const kinds = [
    { mode: '2pc', engine: 'standard', phases: 4, path: { kind: 'commit' } },
    { mode: '2pc', engine: 'express', phases: 4, path: { kind: 'commit' } },
    { mode: 'saga', engine: 'standard', phases: 2, path: { kind: 'commit' } },
    { mode: 'saga', engine: 'express', phases: 2, path: { kind: 'commit' } },
  ] as const;
  return (
    <div>
      <Section title="Cost per message">
        <p class="muted">
          The send, one lease and the ack, each billed by the whole stored item; each further delivery adds a lease. Sizes are as stored:
          bodies of 512 bytes and more are stored compressed when that saves 10% (a 1 KB JSON body usually fits the first row's write
          units).
        </p>
        <table class="costs">
          <thead>
            <tr>
              <th>stored body</th>
              <th class="num">WRU</th>
              <th class="num">RRU</th>
              <th class="num">per million messages</th>
            </tr>
          </thead>
          <tbody>
            {sizes.map((bytes) => {
              const u = messageUsage({ bodyBytes: bytes, receives: 1 });
              return (
                <tr key={bytes}>
                  <td>{bytes < 1024 ? `${bytes} B` : `${bytes / 1024} KB`}</td>
                  <td class="num">{u.writeUnits}</td>
                  <td class="num">{u.readUnits.toFixed(3)}</td>
                  <td class="num">{perMillion(usd(u))}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Section>
      <Section title="Cost per transaction (two participants, committed, no retries)">
        <table class="costs">
          <thead>
            <tr>
              <th>mode</th>
              <th>engine</th>
              {['DynamoDB', 'SQS', 'Step Functions', 'Lambda'].map((s) => (
                <th class="num" key={s}>
                  {s}
                </th>
              ))}
              <th class="num">per million transactions</th>
            </tr>
          </thead>
          <tbody>
            {kinds.map((k) => {
              const u = transactionUsage({ ...k, participants, retries: 0, durationMs: 500 });
              return (
                <tr key={`${k.mode}-${k.engine}`}>
                  <td>{k.mode}</td>
                  <td>{k.engine}</td>
                  {costBreakdown(u).map((line) => (
                    <td class="num" key={line.service}>
                      {perMillion(line.usd)}
                    </td>
                  ))}
                  <td class="num">
                    <strong>{perMillion(usd(u))}</strong>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <p class="muted">Express executions billed for 500 ms at 64 MB; participant Lambdas for 50 ms at 256 MB each.</p>
      </Section>
      <Section title="Prices (us-east-1, on demand)">
        <table class="costs">
          <tbody>
            <tr>
              <th>DynamoDB write request unit</th>
              <td class="num">{perMillion(PRICES.dynamoWriteUnit)} / M</td>
            </tr>
            <tr>
              <th>DynamoDB read request unit</th>
              <td class="num">{perMillion(PRICES.dynamoReadUnit)} / M</td>
            </tr>
            <tr>
              <th>SQS request</th>
              <td class="num">{perMillion(PRICES.sqsStandardRequest)} / M</td>
            </tr>
            <tr>
              <th>Step Functions Standard state transition</th>
              <td class="num">{perMillion(PRICES.stepFunctionsTransition)} / M</td>
            </tr>
            <tr>
              <th>Step Functions Express request</th>
              <td class="num">{perMillion(PRICES.stepFunctionsExpressRequest)} / M</td>
            </tr>
            <tr>
              <th>Lambda request</th>
              <td class="num">{perMillion(PRICES.lambdaRequest)} / M</td>
            </tr>
          </tbody>
        </table>
      </Section>
    </div>
  );
}
