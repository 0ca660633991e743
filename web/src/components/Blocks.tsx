import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api } from '../api';
import { Link, Mrkdwn, safeHref, type MrkdwnContext } from '../mrkdwn';
import type { Block } from '../types';
import './blocks.css';

// Block Kit as Slack draws it: sections (mrkdwn, fields, an accessory), context, dividers, images,
// headers, buttons, rich text. Text stays text nodes (Mrkdwn never makes HTML); images load over
// https only (the page's Content-Security-Policy allows nothing else).

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** Where a block sits, for the button clicks it sends (client.blockAction). */
export interface BlockPlace {
  channel: string;
  ts: string;
}

function TextObject({ t, ctx }: { t: unknown; ctx: MrkdwnContext }) {
  if (!isObj(t)) return null;
  if (t.type === 'mrkdwn') return <Mrkdwn text={str(t.text)} ctx={ctx} />;
  return <span class="bk-plain">{str(t.text)}</span>;
}

/** https images only; anything else shows as its alt text. */
export function SafeImage({ url, alt, class: cls }: { url: unknown; alt: unknown; class: string }) {
  const href = safeHref(str(url));
  if (!href || !href.startsWith('https:')) return <span class={`${cls} bk-noimage`}>{str(alt)}</span>;
  return <img class={cls} src={href} alt={str(alt)} loading="lazy" />;
}

function Button({ el, onClick }: { el: Obj; onClick: () => void }) {
  const style = el.style === 'primary' || el.style === 'danger' ? ` ${el.style}` : '';
  return (
    <button
      type="button"
      class={`bk-button${style}`}
      data-action-id={str(el.action_id)}
      aria-label={str(el.accessibility_label) || undefined}
      onClick={onClick}
    >
      {str(isObj(el.text) ? el.text.text : '')}
    </button>
  );
}

function Element({ el, act }: { el: unknown; act: (el: Obj) => void }) {
  if (!isObj(el)) return null;
  if (el.type === 'button') return <Button el={el} onClick={() => act(el)} />;
  if (el.type === 'image') return <SafeImage class="bk-accessory-image" url={el.image_url} alt={el.alt_text} />;
  const label = isObj(el.placeholder) ? str(el.placeholder.text) : str(el.type).replace(/_/g, ' ');
  // Menus, pickers and the like: named, not offered (only buttons are interactive here).
  return (
    <span class="bk-unsupported" title="Not available in this client">
      {label}
    </span>
  );
}

const RICH_CLASSES: Record<string, string> = { bold: 'bk-b', italic: 'bk-i', strike: 'bk-s', code: 'bk-code', underline: 'bk-u' };

function richStyle(style: unknown): string {
  if (!isObj(style)) return '';
  return Object.keys(RICH_CLASSES)
    .filter((k) => style[k] === true)
    .map((k) => RICH_CLASSES[k])
    .join(' ');
}

function RichInline({ e, ctx }: { e: unknown; ctx: MrkdwnContext }): ComponentChildren {
  if (!isObj(e)) return null;
  const cls = richStyle(e.style);
  switch (e.type) {
    case 'text':
      return cls ? <span class={cls}>{str(e.text)}</span> : str(e.text);
    case 'link':
      return (
        <span class={cls}>
          <Link href={str(e.url)}>{str(e.text) || str(e.url)}</Link>
        </span>
      );
    case 'user':
      return <span class="mention">@{ctx.userName(str(e.user_id))}</span>;
    case 'channel':
      return <span class="mention">#{ctx.channelName(str(e.channel_id)) ?? str(e.channel_id)}</span>;
    case 'usergroup':
      return <span class="mention">@{str(e.usergroup_id)}</span>;
    case 'broadcast':
      return <span class="mention">@{str(e.range)}</span>;
    case 'emoji':
      return `:${str(e.name)}:`;
    case 'date':
      return typeof e.timestamp === 'number' ? new Date(e.timestamp * 1000).toLocaleString() : '';
    case 'color':
      return str(e.value);
    default:
      return null;
  }
}

const inlines = (elements: unknown, ctx: MrkdwnContext) =>
  Array.isArray(elements) ? elements.map((e, i) => <RichInline key={i} e={e} ctx={ctx} />) : null;

function RichSection({ s, ctx }: { s: unknown; ctx: MrkdwnContext }) {
  if (!isObj(s)) return null;
  switch (s.type) {
    case 'rich_text_section':
      return <div class="bk-rich-section">{inlines(s.elements, ctx)}</div>;
    case 'rich_text_preformatted':
      return <pre class="bk-pre">{inlines(s.elements, ctx)}</pre>;
    case 'rich_text_quote':
      return <blockquote class="bk-quote">{inlines(s.elements, ctx)}</blockquote>;
    case 'rich_text_list': {
      const items = Array.isArray(s.elements) ? s.elements : [];
      const children = items.map((item, i) => <li key={i}>{isObj(item) ? inlines(item.elements, ctx) : null}</li>);
      return s.style === 'ordered' ? <ol class="bk-list">{children}</ol> : <ul class="bk-list">{children}</ul>;
    }
    default:
      return null;
  }
}

function OneBlock({ b, ctx, act }: { b: Block; ctx: MrkdwnContext; act: (block: Block, el: Obj) => void }) {
  switch (b.type) {
    case 'section': {
      const fields = Array.isArray(b.fields) ? b.fields : [];
      return (
        <div class="bk-section" data-block-type="section">
          <div class="bk-section-main">
            {b.text !== undefined && <TextObject t={b.text} ctx={ctx} />}
            {fields.length > 0 && (
              <div class="bk-fields">
                {fields.map((f, i) => (
                  <div key={i} class="bk-field">
                    <TextObject t={f} ctx={ctx} />
                  </div>
                ))}
              </div>
            )}
          </div>
          {b.accessory !== undefined && (
            <div class="bk-accessory">
              <Element el={b.accessory} act={(el) => act(b, el)} />
            </div>
          )}
        </div>
      );
    }
    case 'header':
      return (
        <div class="bk-header" role="heading" aria-level={3} data-block-type="header">
          {str(isObj(b.text) ? b.text.text : '')}
        </div>
      );
    case 'divider':
      return <hr class="bk-divider" data-block-type="divider" />;
    case 'context': {
      const elements = Array.isArray(b.elements) ? b.elements : [];
      return (
        <div class="bk-context" data-block-type="context">
          {elements.map((e, i) =>
            isObj(e) && e.type === 'image' ? (
              <SafeImage key={i} class="bk-context-image" url={e.image_url} alt={e.alt_text} />
            ) : (
              <TextObject key={i} t={e} ctx={ctx} />
            ),
          )}
        </div>
      );
    }
    case 'image':
      return (
        <figure class="bk-image" data-block-type="image">
          {isObj(b.title) && <figcaption>{str(b.title.text)}</figcaption>}
          <SafeImage class="bk-image-img" url={b.image_url} alt={b.alt_text} />
        </figure>
      );
    case 'actions': {
      const elements = Array.isArray(b.elements) ? b.elements : [];
      return (
        <div class="bk-actions" data-block-type="actions">
          {elements.map((e, i) => (
            <Element key={i} el={e} act={(el) => act(b, el)} />
          ))}
        </div>
      );
    }
    case 'rich_text': {
      const elements = Array.isArray(b.elements) ? b.elements : [];
      return (
        <div class="bk-rich" data-block-type="rich_text">
          {elements.map((s, i) => (
            <RichSection key={i} s={s} ctx={ctx} />
          ))}
        </div>
      );
    }
    case 'markdown':
      return <Mrkdwn text={str(b.text)} ctx={ctx} />;
    default:
      return null;
  }
}

/**
 * A message's blocks. A button click sends `client.blockAction` (the app behind the message gets
 * it); a refusal or a network failure shows beside the buttons and blocks nothing else.
 */
export function Blocks({ blocks, ctx, place }: { blocks: Block[]; ctx: MrkdwnContext; place: BlockPlace }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const act = (block: Block, el: Obj) => {
    const url = safeHref(str(el.url));
    if (url) window.open(url, '_blank', 'noopener,noreferrer');
    setError('');
    setBusy(true);
    api('client.blockAction', {
      channel: place.channel,
      message_ts: place.ts,
      ...(block.block_id ? { block_id: block.block_id } : {}),
      ...(typeof el.action_id === 'string' ? { action_id: el.action_id } : {}),
      ...(typeof el.value === 'string' ? { value: el.value } : {}),
      type: 'button',
    })
      .catch((err: Error) => setError(`That action did not go through (${err.message}).`))
      .finally(() => setBusy(false));
  };
  return (
    <div class={`bk-blocks${busy ? ' busy' : ''}`} data-testid="blocks">
      {blocks.map((b, i) => (
        <OneBlock key={b.block_id ?? i} b={b} ctx={ctx} act={act} />
      ))}
      {error && (
        <div class="bk-error" role="status" data-testid="block-action-error">
          {error}
        </div>
      )}
    </div>
  );
}
