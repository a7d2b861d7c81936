// Test helper for the aws_sdk_*_test.js files: makes the certificates with openssl
// (also as the AWS developer guide does), starts `iotblocks gateway run` on free
// 127.0.0.1 ports with a config, onboards devices through the admin API, and stops
// the gateway.
'use strict';
const { execFile, execFileSync, spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const readline = require('readline');

function openssl(...args) {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/// A server CA and a server certificate for 127.0.0.1 and localhost (P-256).
function makeServerTls(dir) {
  const f = (n) => path.join(dir, n);
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
          '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=test server CA',
          '-addext', 'basicConstraints=critical,CA:TRUE',
          '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout',
          f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost');
  fs.writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' +
                   'extendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'),
          '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('ext.cnf'));
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

function opensslAsync(dir, ...args) {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd: dir }, (error, stdout, stderr) => {
      if (error) reject(new Error(`openssl ${args.join(' ')}: ${stderr}`));
      else resolve(stdout);
    });
  });
}

/// A CA, device keys and certificates made with the commands of the AWS IoT developer
/// guide ("Create a CA certificate", "Create a client certificate using your CA
/// certificate"), the prompted subject given with -subj: an RSA CA without keyUsage.
class GuideCa {
  constructor(dir) {
    this.dir = dir;
    this.ca = path.join(dir, 'rootCA.pem');
  }

  /// openssl genrsa for the CA and for `keys` device keys (in parallel), then the CA.
  async make(keys) {
    const names = ['rootCA', ...keys];
    await Promise.all(names.map((n) => opensslAsync(this.dir, 'genrsa', '-out', `${n}.key`, '2048')));
    await opensslAsync(this.dir, 'req', '-x509', '-new', '-nodes', '-key', 'rootCA.key', '-sha256',
                       '-days', '1024', '-out', 'rootCA.pem', '-subj', '/CN=Guide Root CA');
  }

  /// A certificate for subject CN `cn` on the key `key` (made by make()), signed by the CA.
  async sign(name, key, cn) {
    await opensslAsync(this.dir, 'req', '-new', '-key', `${key}.key`, '-out', `${name}.csr`,
                       '-subj', `/CN=${cn}`);
    await opensslAsync(this.dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'rootCA.pem', '-CAkey',
                       'rootCA.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '500',
                       '-sha256');
    return { cert: path.join(this.dir, `${name}.pem`), key: path.join(this.dir, `${key}.key`) };
  }
}

function request(port, method, urlPath, token, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath,
                               headers: { Authorization: `Bearer ${token}`,
                                          'Content-Type': 'application/json' } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode >= 300) return reject(new Error(`${method} ${urlPath}: ${res.statusCode} ${text}`));
        resolve(text ? JSON.parse(text) : {});
      });
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

class Gateway {
  constructor(binary) {
    this.binary = binary;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iotblocks-aws-sdk-'));
    this.tls = makeServerTls(this.dir);
    this.token = 'sdk-test-admin';
    this.ports = {};
  }

  /// Starts with `extra` merged into a config of mqtts, wss and http listeners.
  async start(extra) {
    const tls = { cert_file: this.tls.cert, key_file: this.tls.key, request_client_cert: true,
                  require_client_cert: false };
    const config = {
      listeners: [
        { type: 'mqtts', address: '127.0.0.1', port: 0, tls },
        { type: 'wss', address: '127.0.0.1', port: 0, tls: { ...tls, request_client_cert: false } },
        { type: 'http', address: '127.0.0.1', port: 0 },
      ],
      data_dir: path.join(this.dir, 'data'),
      threads: 1,
      admin_token: this.token,
      ...extra,
    };
    const file = path.join(this.dir, 'gw.json');
    fs.writeFileSync(file, JSON.stringify(config));
    this.proc = spawn(this.binary, ['gateway', 'run', '--config', file],
                      { stdio: ['ignore', 'pipe', 'pipe'] });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    const lines = readline.createInterface({ input: this.proc.stdout });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('gateway did not start')), 10000);
      this.proc.on('exit', (rc) => reject(new Error(`gateway exited ${rc}: ${this.stderr}`)));
      lines.on('line', (line) => {
        const parts = line.trim().split(/\s+/);
        if (parts.length === 2 && parts[1].includes('://')) {
          this.ports[parts[0]] = Number(parts[1].split(':').pop());
        }
        if (parts[0] === 'data') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  admin(method, urlPath, body) {
    return request(this.ports.http, method, urlPath, this.token, body);
  }

  /// A device certificate under the gateway's device CA for thing `name`, with `policy`
  /// attached; returns the paths of its certificate and key files.
  async device(name, policy) {
    const out = await this.admin('POST', `/admin/things/${name}/certificate`, { policy });
    const cert = path.join(this.dir, `${name}.pem`);
    const key = path.join(this.dir, `${name}.key`);
    fs.writeFileSync(cert, out.certificatePem);
    fs.writeFileSync(key, out.privateKey);
    return { cert, key };
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((resolve) => this.proc.on('exit', resolve));
    this.proc.kill('SIGTERM');
    await exited;
  }

  cleanup() {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

module.exports = { Gateway, GuideCa, opensslAsync };
