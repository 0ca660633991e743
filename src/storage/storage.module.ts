import { Module } from '@nestjs/common';
import { S3Client } from '@aws-sdk/client-s3';
import { CONFIG, type Config } from '../config/config.js';
import { FILE_STORAGE, type FileStorage } from './file-storage.js';
import { LocalStorage } from './local-storage.js';
import { S3Storage } from './s3-storage.js';

/** The configured driver: an S3-compatible bucket when FILES_S3_BUCKET is set, else the FILES_DIR directory. */
export async function fileStorage(config: Config): Promise<FileStorage> {
  if (config.FILES_S3_BUCKET) {
    const credentials =
      config.FILES_S3_ACCESS_KEY_ID && config.FILES_S3_SECRET_ACCESS_KEY
        ? { accessKeyId: config.FILES_S3_ACCESS_KEY_ID, secretAccessKey: config.FILES_S3_SECRET_ACCESS_KEY }
        : undefined;
    const s3 = new S3Client({
      region: config.FILES_S3_REGION,
      endpoint: config.FILES_S3_ENDPOINT,
      forcePathStyle: !!config.FILES_S3_ENDPOINT,
      credentials,
    });
    return new S3Storage(s3, config.FILES_S3_BUCKET);
  }
  const local = new LocalStorage(config.FILES_DIR);
  await local.init();
  return local;
}

/** File bytes: one storage driver behind FileStorage. */
@Module({
  providers: [{ provide: FILE_STORAGE, inject: [CONFIG], useFactory: fileStorage }],
  exports: [FILE_STORAGE],
})
export class StorageModule {}
