import { api, ApiError } from './api';

// Files the way Slack clients send them: files.getUploadURLExternal for each file, the bytes
// POSTed to the URL it returns (XHR, for upload progress), then files.completeUploadExternal shares
// them in one message. The upload URL is its own credential; no cookie or CSRF header goes with it.

export interface Upload {
  key: string;
  file: File;
  /** 0..1 of the bytes sent. */
  progress: number;
  state: 'uploading' | 'ready' | 'failed';
  /** The file id once the bytes are stored. */
  id?: string;
  error?: string;
}

/** What the person reads for a refusal (Slack's code stays in brackets for support). */
export function uploadError(code: string): string {
  if (code === 'file_too_large') return 'This file is larger than the server accepts';
  if (code === 'offline' || code === 'http_0') return 'The upload was interrupted (offline?)';
  if (code === 'ekm_access_denied') return 'Files cannot be shared here while the workspace key is revoked';
  return `The upload failed (${code})`;
}

/** Sends one file's bytes; resolves with its file id. `onProgress` gets 0..1. */
export async function uploadFile(file: File, onProgress: (fraction: number) => void): Promise<string> {
  const { upload_url, file_id } = await api<{ upload_url: string; file_id: string }>('files.getUploadURLExternal', {
    filename: file.name || 'pasted-file',
    length: file.size,
  });
  await new Promise<void>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', upload_url);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status === 200) return resolve();
      let code = `http_${xhr.status}`;
      try {
        code = String((JSON.parse(xhr.responseText) as { error?: string }).error ?? code);
      } catch {
        // not JSON: the status says enough
      }
      reject(new ApiError(xhr.status === 413 ? 'file_too_large' : code));
    };
    xhr.onerror = () => reject(new ApiError('offline'));
    // Multipart, as @slack/web-api's filesUploadV2 posts it (the server streams the part into storage).
    const form = new FormData();
    form.append('filename', file.name || 'pasted-file');
    form.append('file', file, file.name || 'pasted-file');
    xhr.send(form);
  });
  onProgress(1);
  return file_id;
}

/** Shares uploaded files in `channel` (a thread when `threadTs`), with the text as the message. */
export function shareFiles(channel: string, uploads: Upload[], text: string, threadTs?: string) {
  return api('files.completeUploadExternal', {
    files: uploads.map((u) => ({ id: u.id!, title: u.file.name || 'pasted-file' })),
    channel_id: channel,
    ...(text.trim() ? { initial_comment: text } : {}),
    ...(threadTs ? { thread_ts: threadTs } : {}),
  });
}

export function formatSize(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
}
