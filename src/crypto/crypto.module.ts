import { readFileSync } from 'node:fs';
import { Module } from '@nestjs/common';
import { KMSClient } from '@aws-sdk/client-kms';
import { CONFIG, type Config } from '../config/config.js';
import { AwsKmsKeyProvider } from './aws-kms-key-provider.js';
import { BodyCipher } from './body-cipher.js';
import { EkmRepository } from './ekm.repository.js';
import { KEY_PROVIDERS, type KeyProviders } from './key-provider.js';
import { LocalKeyProvider } from './local-key-provider.js';
import { SearchKeys } from './search-keys.js';

/** The key providers this node has keys for: local needs a master key, AWS KMS a region. */
export function keyProviders(config: Config): KeyProviders {
  const master =
    config.EKM_LOCAL_MASTER_KEY ?? (config.EKM_LOCAL_MASTER_KEY_FILE && readFileSync(config.EKM_LOCAL_MASTER_KEY_FILE, 'utf8').trim());
  return {
    local: master ? new LocalKeyProvider(Buffer.from(master, 'base64')) : undefined,
    'aws-kms': config.AWS_KMS_REGION
      ? new AwsKmsKeyProvider(new KMSClient({ region: config.AWS_KMS_REGION, endpoint: config.AWS_KMS_ENDPOINT }), config.AWS_KMS_KEY_ALLOW)
      : undefined,
  };
}

/** Envelope encryption of message bodies: the key providers, data keys and the body cipher. */
@Module({
  providers: [EkmRepository, BodyCipher, SearchKeys, { provide: KEY_PROVIDERS, inject: [CONFIG], useFactory: keyProviders }],
  exports: [EkmRepository, BodyCipher, SearchKeys, KEY_PROVIDERS],
})
export class CryptoModule {}
