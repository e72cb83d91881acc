"""Make the IAM administrator of the scenario's own moto server, which authenticates every request after the first three.

moto_server runs with INITIAL_NO_AUTH_ACTION_COUNT=3: exactly these three calls pass unsigned (any key works); every
later call must be signed with a key of moto's IAM and be allowed by its user's policies. Prints the administrator's
key as JSON (the caller writes it into the scenario's folder of secrets, never to the output).
"""
import json
import sys

import boto3

ADMIN = 'clawd-molecule-rotation-admin'
ADMIN_POLICY = {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}]}


def main(endpoint_url):
    iam = boto3.client('iam', endpoint_url=endpoint_url, region_name='us-east-1',
                       aws_access_key_id='bootstrap', aws_secret_access_key='bootstrap')
    iam.create_user(UserName=ADMIN)
    iam.put_user_policy(UserName=ADMIN, PolicyName='administrator', PolicyDocument=json.dumps(ADMIN_POLICY))
    key = iam.create_access_key(UserName=ADMIN)['AccessKey']
    print(json.dumps({'access_key': key['AccessKeyId'], 'secret_key': key['SecretAccessKey']}))


if __name__ == '__main__':
    main(sys.argv[1])
