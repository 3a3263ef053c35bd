// Throwaway X.509 material for TLS tests, made with the openssl binary: a CA, leaf certificates
// it signs (server or client), and self-signed server certificates. EC P-256 keys: quick to make.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface LeafOptions {
  /** subjectAltName DNS entries. */
  readonly dnsNames?: readonly string[];
  /** subjectAltName IP entries. */
  readonly ipAddresses?: readonly string[];
  readonly purpose?: 'server' | 'client';
  /** openssl's -newkey argument; EC P-256 unless told otherwise. */
  readonly keyType?: 'ec' | 'rsa' | 'ed25519';
  /** The signature's digest (ignored for Ed25519). */
  readonly digest?: 'sha256' | 'sha384';
}

/** A CA certificate and key in `dir`, files named after `name`. */
export function createTestCa(dir: string, name: string): CertificateFiles {
  const files = filesFor(dir, name);
  const config = writeConfig(dir, name, ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash']);
  openssl(['req', '-x509', ...newKey('ec'), '-keyout', files.keyFile, '-out', files.certFile, '-days', '2', '-subj', `/CN=${name}`, '-config', config, '-extensions', 'ext']);
  return files;
}

/** A leaf certificate for `commonName`, signed by `ca`. */
export function issueCertificate(ca: CertificateFiles, dir: string, commonName: string, options: LeafOptions = {}): CertificateFiles {
  const files = filesFor(dir, commonName);
  const csr = join(dir, `${commonName}.csr`);
  const config = writeConfig(dir, commonName, [...leafExtensions(options), 'authorityKeyIdentifier = keyid']);
  openssl(['req', '-new', ...newKey(options.keyType ?? 'ec'), '-keyout', files.keyFile, '-out', csr, '-subj', `/CN=${commonName}`, '-config', config]);
  openssl([
    'x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', String(Date.now()), '-days', '2',
    ...digest(options), '-extfile', config, '-extensions', 'ext', '-out', files.certFile,
  ]);
  return files;
}

/** A self-signed leaf certificate for `commonName` (no CA vouches for it). */
export function selfSignedCertificate(dir: string, commonName: string, options: LeafOptions = {}): CertificateFiles {
  const files = filesFor(dir, commonName);
  const config = writeConfig(dir, commonName, leafExtensions(options));
  openssl(['req', '-x509', ...newKey(options.keyType ?? 'ec'), '-keyout', files.keyFile, '-out', files.certFile, '-days', '2', ...digest(options), '-subj', `/CN=${commonName}`, '-config', config, '-extensions', 'ext']);
  return files;
}

function leafExtensions(options: LeafOptions): string[] {
  const names = [...(options.dnsNames ?? []).map((name) => `DNS:${name}`), ...(options.ipAddresses ?? []).map((ip) => `IP:${ip}`)];
  return [
    'basicConstraints = critical,CA:FALSE',
    'keyUsage = critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage = ${options.purpose === 'client' ? 'clientAuth' : 'serverAuth'}`,
    ...(names.length > 0 ? [`subjectAltName = ${names.join(',')}`] : []),
  ];
}

function newKey(type: 'ec' | 'rsa' | 'ed25519'): string[] {
  if (type === 'rsa') return ['-newkey', 'rsa:2048', '-nodes'];
  if (type === 'ed25519') return ['-newkey', 'ed25519', '-nodes'];
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
}

function digest(options: LeafOptions): string[] {
  return options.keyType === 'ed25519' ? [] : [`-${options.digest ?? 'sha256'}`];
}

function filesFor(dir: string, name: string): CertificateFiles {
  return { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
}

// A config of our own: the system openssl.cnf would add its v3_ca extensions to every certificate.
function writeConfig(dir: string, name: string, extensions: string[]): string {
  const file = join(dir, `${name}.cnf`);
  writeFileSync(file, ['[req]', 'distinguished_name = dn', '[dn]', '[ext]', ...extensions, ''].join('\n'));
  return file;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
