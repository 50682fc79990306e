import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { CLAIM_CHECK_PREFIX } from '../../functions/adapters/body-store.js';

/**
 * Table grants naming exactly the resources used: the table, and an index only when asked for
 * (aws-cdk's `table.grant` adds `index/*` to every grant).
 */
export function grantTable(table: dynamodb.ITable, grantee: iam.IGrantable, actions: string[], options: { index?: string } = {}): void {
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: [table.tableArn] }));
  if (options.index) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${table.tableArn}/index/${options.index}`] }),
    );
  }
}

/** Object grants on the claim-check prefix, with exact actions (no `s3:GetObject*`-style wildcards). */
export function grantObjects(bucket: s3.IBucket, grantee: iam.IGrantable, actions: string[]): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions, resources: [bucket.arnForObjects(`${CLAIM_CHECK_PREFIX}*`)] }),
  );
}
