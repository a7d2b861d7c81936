// A custom authorizer function for aws_sdk_test.js, as a program: reads AWS's
// request event on stdin, writes AWS's response document on stdout. Admits the
// password "let-me-in" (MQTT) or the token "good-token" (username query string,
// WebSocket header or query string); the policy it returns allows connecting as
// the client id and publish/subscribe/receive under custom/<clientId>/.
// Usage: node aws_sdk_authorizer.js   (the test also requires it for decide()).
'use strict';

function decide(event, disconnectAfter) {
  const mqtt = (event.protocolData && event.protocolData.mqtt) || {};
  const password = mqtt.password ? Buffer.from(mqtt.password, 'base64').toString() : '';
  if (password !== 'let-me-in' && event.token !== 'good-token') return { isAuthenticated: false };
  const id = mqtt.clientId || 'unknown';
  const arn = (kind, name) => `arn:aws:iot:*:*:${kind}/${name}`;
  const policy = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client', id) },
      { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'],
        Resource: arn('topic', `custom/${id}/*`) },
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: arn('topicfilter', `custom/${id}/*`) },
    ],
  };
  return { isAuthenticated: true, principalId: id.replace(/[^A-Za-z0-9]/g, '') || 'anon',
           policyDocuments: [JSON.stringify(policy)],
           disconnectAfterInSeconds: disconnectAfter || 3600, refreshAfterInSeconds: 300 };
}

if (require.main === module) {
  const chunks = [];
  process.stdin.on('data', (c) => chunks.push(c));
  process.stdin.on('end', () => {
    const event = JSON.parse(Buffer.concat(chunks).toString());
    process.stdout.write(JSON.stringify(decide(event)));
  });
}

module.exports = { decide };
