import type { MessageFile } from '../../domain/message.js';
import type { FileRow } from '../../jobs/files/files.repository.js';
import { thumbFields } from '../../jobs/files/file-thumbnails.js';
import { IMAGE_MIME } from '../../jobs/files/sniff.js';
import type { FileMeta } from '../../jobs/files/files-ekm.js';

const MIME_BY_EXT: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
  zip: 'application/zip',
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  html: 'text/html',
  htm: 'text/html',
  json: 'application/json',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
};

/** Slack's filetype (the extension) and the content type the name suggests (only ever shown, never served as such). */
export function typeFromName(name: string): { filetype: string; mimetype: string } {
  const ext = /\.([A-Za-z0-9]{1,10})$/.exec(name)?.[1]?.toLowerCase();
  if (!ext) return { filetype: 'binary', mimetype: 'application/octet-stream' };
  return { filetype: ext === 'jpeg' ? 'jpg' : ext, mimetype: MIME_BY_EXT[ext] ?? 'application/octet-stream' };
}

/** The path segment of a file's URLs: its name, made safe for a URL (the route ignores it). */
const urlName = (name: string) => encodeURIComponent(name.replace(/[/\\]/g, '_') || 'file');

export function fileUrls(base: string, file: FileRow, meta: FileMeta | undefined) {
  const name = urlName(meta?.name ?? file.id);
  const urls = {
    url_private: `${base}/files-pri/${file.id}/${name}`,
    url_private_download: `${base}/files-pri/${file.id}/download/${name}`,
  };
  return { ...urls, ...thumbFields(base, file) };
}

/**
 * Slack's file object. `meta` is undefined when the name could not be opened (EKM, revoked): the
 * object then has empty name and title and `ekm_access_denied: true`.
 */
export function toFileObject(base: string, file: FileRow, meta: FileMeta | undefined, channelPrivate?: boolean) {
  const created = Math.floor(file.created_at.getTime() / 1000);
  const shared = file.channel_id
    ? channelPrivate
      ? { channels: [], groups: [file.channel_id], ims: [] }
      : { channels: [file.channel_id], groups: [], ims: [] }
    : { channels: [], groups: [], ims: [] };
  return {
    id: file.id,
    created,
    timestamp: created,
    name: meta?.name ?? '',
    title: meta?.title ?? '',
    mimetype: file.image_type ? IMAGE_MIME[file.image_type] : file.mimetype,
    filetype: file.filetype,
    pretty_type: file.filetype.toUpperCase(),
    user: file.user_id,
    user_team: file.workspace_id,
    editable: false,
    size: Number(file.size ?? file.declared_size),
    mode: 'hosted',
    is_external: false,
    external_type: '',
    is_public: file.channel_id ? !channelPrivate : false,
    public_url_shared: false,
    display_as_bot: false,
    username: '',
    ...fileUrls(base, file, meta),
    ...shared,
    comments_count: 0,
    has_rich_preview: false,
    file_access: 'visible',
    ...(meta ? {} : { ekm_access_denied: true }),
  };
}

/** The entry a message's `files` keeps (names only outside EKM workspaces). */
export function toMessageFile(base: string, file: FileRow, meta: FileMeta): MessageFile {
  const entry: MessageFile = {
    id: file.id,
    mode: 'hosted',
    created: Math.floor(file.created_at.getTime() / 1000),
    name: file.encrypted ? '' : meta.name,
    title: file.encrypted ? '' : meta.title,
    mimetype: file.image_type ? IMAGE_MIME[file.image_type] : file.mimetype,
    filetype: file.filetype,
    user: file.user_id,
    size: Number(file.size ?? file.declared_size),
    ...fileUrls(base, file, file.encrypted ? undefined : meta),
  };
  if (file.encrypted) entry.ekm = true;
  return entry;
}
