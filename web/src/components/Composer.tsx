import { useEffect, useRef, useState } from 'preact/hooks';
import type { Chat } from '../chat';
import { formatSize, shareFiles, type Upload, uploadError, uploadFile } from '../uploads';

/** Where files dropped on the channel pane go (the pane is bigger than the composer). */
export type DropTarget = { current: ((files: File[]) => void) | null };

/**
 * Enter sends, Shift+Enter starts a new line; typing tells the channel's viewers. Files (the
 * attach button, a drop, a paste) start uploading at once with a progress bar, and Send shares
 * them in one message with the text as its comment (files.completeUploadExternal).
 */
export function Composer({
  chat,
  channel,
  threadTs,
  label,
  dropTarget,
}: {
  chat: Chat;
  channel: string;
  threadTs?: string;
  label: string;
  dropTarget?: DropTarget;
}) {
  const [text, setText] = useState('');
  const [broadcast, setBroadcast] = useState(false);
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [shareError, setShareError] = useState('');
  const [sharing, setSharing] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const update = (key: string, change: Partial<Upload>) => setUploads((all) => all.map((u) => (u.key === key ? { ...u, ...change } : u)));

  const addFiles = (files: File[]) => {
    setShareError('');
    for (const file of files) {
      const key = crypto.randomUUID();
      setUploads((all) => [...all, { key, file, progress: 0, state: 'uploading' }]);
      uploadFile(file, (progress) => update(key, { progress })).then(
        (id) => update(key, { id, state: 'ready', progress: 1 }),
        (err: Error) => update(key, { state: 'failed', error: uploadError(err.message) }),
      );
    }
  };
  useEffect(() => {
    if (!dropTarget) return;
    dropTarget.current = addFiles;
    return () => {
      if (dropTarget.current === addFiles) dropTarget.current = null;
    };
  });

  const ready = uploads.filter((u) => u.state === 'ready');
  const busy = uploads.some((u) => u.state === 'uploading') || sharing;
  const canSend = !busy && (ready.length > 0 || !!text.trim());
  const send = async () => {
    if (!canSend) return;
    if (ready.length) {
      // Files go over the Web API (not the socket outbox): the message is written when this answers.
      setSharing(true);
      try {
        await shareFiles(channel, ready, text, threadTs);
        setUploads((all) => all.filter((u) => !ready.includes(u)));
        setText('');
      } catch (err) {
        setShareError(uploadError((err as Error).message));
      } finally {
        setSharing(false);
      }
    } else {
      chat.outbox.add({ channel, text, ...(threadTs ? { thread_ts: threadTs, reply_broadcast: broadcast } : {}) });
      setText('');
    }
    box.current?.focus();
  };
  return (
    <form
      class="composer"
      data-testid="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
      onDragOver={(e) => {
        if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
      }}
      onDrop={(e) => {
        const files = [...(e.dataTransfer?.files ?? [])];
        if (!files.length) return;
        e.preventDefault();
        e.stopPropagation();
        addFiles(files);
      }}
    >
      {uploads.length > 0 && (
        <ul class="uploads" aria-label="Files to send">
          {uploads.map((u) => (
            <li key={u.key} class={`upload ${u.state}`} data-testid="upload" data-state={u.state}>
              <span class="upload-name">{u.file.name || 'pasted-file'}</span>
              <span class="upload-size">{formatSize(u.file.size)}</span>
              {u.state === 'uploading' && (
                <progress max={1} value={u.progress} aria-label={`Uploading ${u.file.name}`}>
                  {Math.round(u.progress * 100)}%
                </progress>
              )}
              {u.state === 'failed' && (
                <span class="error" role="alert">
                  {u.error}
                </span>
              )}
              <button
                type="button"
                class="remove"
                aria-label={`Remove ${u.file.name}`}
                onClick={() => setUploads((all) => all.filter((x) => x.key !== u.key))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {shareError && (
        <div class="share-error error" role="alert">
          {shareError}
        </div>
      )}
      <button type="button" class="attach" aria-label="Attach files" title="Attach files" onClick={() => picker.current?.click()}>
        +
      </button>
      <input
        ref={picker}
        type="file"
        multiple
        hidden
        data-testid="file-input"
        onChange={(e) => {
          addFiles([...(e.currentTarget.files ?? [])]);
          e.currentTarget.value = '';
        }}
      />
      <textarea
        ref={box}
        rows={1}
        value={text}
        aria-label={label}
        placeholder={label}
        onInput={(e) => {
          setText(e.currentTarget.value);
          chat.sendTyping(channel);
        }}
        onPaste={(e) => {
          const files = [...(e.clipboardData?.files ?? [])];
          if (!files.length) return;
          e.preventDefault();
          addFiles(files);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            void send();
          }
        }}
      />
      {threadTs && (
        <label class="broadcast">
          <input type="checkbox" checked={broadcast} onChange={(e) => setBroadcast(e.currentTarget.checked)} /> Also send to channel
        </label>
      )}
      <button type="submit" class="send" disabled={!canSend}>
        Send
      </button>
    </form>
  );
}
