import { useEffect, useRef, useState } from 'preact/hooks';
import type { MessageFile } from '../types';
import { formatSize } from '../uploads';

// A message's files: images as thumbnails (a click shows the full image in a dialog), anything else
// as a card with a download link. The URLs are the server's own (same origin), served to the session
// cookie; names are only ever text in the page.

const isImage = (f: MessageFile) => /^image\/(png|jpeg|gif|webp)$/.test(f.mimetype ?? '');

/** The name to show; an EKM file's name is sealed and the message does not carry it. */
export const fileName = (f: MessageFile) => f.title || f.name || '';

function Viewer({ file, onClose }: { file: MessageFile; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => dialog.current?.showModal(), []);
  return (
    <dialog
      ref={dialog}
      class="viewer"
      aria-label={fileName(file) || 'Image'}
      onClose={onClose}
      onClick={onClose}
      data-testid="image-viewer"
    >
      <img src={file.url_private} alt={fileName(file)} />
      <div class="viewer-bar">
        <span>{fileName(file)}</span>
        <a href={file.url_private_download} download onClick={(e) => e.stopPropagation()}>
          Download
        </a>
        <button class="close" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
    </dialog>
  );
}

export function FileCard({ file }: { file: MessageFile }) {
  const name = fileName(file);
  const hidden = !name && (file.ekm || file.ekm_access_denied);
  const type = (file.pretty_type ?? file.filetype ?? '').toUpperCase();
  return (
    <div class="file-card" data-testid="file" data-file={file.id}>
      <div class="file-icon" aria-hidden="true">
        {(file.filetype ?? 'file').slice(0, 4).toUpperCase()}
      </div>
      <div class="file-info">
        <div class={`file-name${hidden ? ' hidden-name' : ''}`}>{hidden ? 'Encrypted file (name hidden)' : name || file.id}</div>
        <div class="file-meta">{[type, formatSize(file.size)].filter(Boolean).join(' · ')}</div>
      </div>
      {file.url_private_download && !file.ekm_access_denied && (
        <a class="file-download" href={file.url_private_download} download aria-label={`Download ${name || 'file'}`}>
          Download
        </a>
      )}
    </div>
  );
}

export function MessageFiles({ files }: { files: MessageFile[] }) {
  const [viewing, setViewing] = useState<MessageFile | null>(null);
  const [broken, setBroken] = useState<Set<string>>(new Set());
  return (
    <div class="files">
      {files.map((f) => {
        if (f.mode === 'tombstone')
          return (
            <div key={f.id} class="file-card gone" data-testid="file" data-file={f.id}>
              This file was deleted.
            </div>
          );
        if (isImage(f) && !broken.has(f.id) && (f.thumb_360 || f.url_private)) {
          // The thumbnail is made by a job after the upload: until it exists the message carries
          // none, and the image itself is shown scaled down.
          const w = f.thumb_360 ? f.thumb_360_w : undefined;
          const h = f.thumb_360 ? f.thumb_360_h : undefined;
          return (
            <button key={f.id} type="button" class="file-image" data-testid="file" data-file={f.id} onClick={() => setViewing(f)}>
              <img
                src={f.thumb_360 ?? f.url_private}
                width={w}
                height={h}
                alt={fileName(f) || 'Image'}
                loading="lazy"
                onError={() => setBroken((b) => new Set(b).add(f.id))}
              />
            </button>
          );
        }
        return <FileCard key={f.id} file={f} />;
      })}
      {viewing && <Viewer file={viewing} onClose={() => setViewing(null)} />}
    </div>
  );
}
