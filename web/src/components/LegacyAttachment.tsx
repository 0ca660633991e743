import { Link, Mrkdwn, type MrkdwnContext } from '../mrkdwn';
import type { Attachment } from '../types';
import { Blocks, SafeImage, type BlockPlace } from './Blocks';

/** Slack's named colours, and #rgb / #rrggbb; anything else gets the neutral bar. */
const NAMED: Record<string, string> = { good: '#2eb67d', warning: '#ecb22e', danger: '#e01e5a' };
function barColor(color: string | undefined): string {
  if (!color) return '#dddddd';
  if (NAMED[color]) return NAMED[color];
  const hex = color.startsWith('#') ? color : `#${color}`;
  return /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(hex) ? hex : '#dddddd';
}

/** A poster's (legacy) attachment: colour bar, pretext, author, title, text, fields, image, footer, blocks. */
export function LegacyAttachment({ a, ctx, place }: { a: Attachment; ctx: MrkdwnContext; place: BlockPlace }) {
  const fields = Array.isArray(a.fields) ? a.fields : [];
  return (
    <div class="att" data-testid="attachment">
      {a.pretext && (
        <div class="att-pretext">
          <Mrkdwn text={a.pretext} ctx={ctx} />
        </div>
      )}
      <div class="att-box">
        <div class="att-bar" style={{ background: barColor(a.color) }} aria-hidden="true" />
        <div class="att-main">
          {a.author_name && (
            <div class="att-author">{a.author_link ? <Link href={a.author_link}>{a.author_name}</Link> : a.author_name}</div>
          )}
          {a.title && <div class="att-title">{a.title_link ? <Link href={a.title_link}>{a.title}</Link> : a.title}</div>}
          {a.text && <Mrkdwn text={a.text} ctx={ctx} />}
          {fields.length > 0 && (
            <div class="att-fields">
              {fields.map((f, i) => (
                <div key={i} class={`att-field${f.short ? ' short' : ''}`}>
                  {f.title && <div class="att-field-title">{f.title}</div>}
                  {f.value && <Mrkdwn text={f.value} ctx={ctx} />}
                </div>
              ))}
            </div>
          )}
          {a.blocks && a.blocks.length > 0 && <Blocks blocks={a.blocks} ctx={ctx} place={place} />}
          {a.image_url && <SafeImage class="att-image" url={a.image_url} alt={a.fallback ?? ''} />}
          {a.footer && <div class="att-footer">{a.footer}</div>}
          {!a.title && !a.text && !fields.length && !a.blocks?.length && !a.image_url && a.fallback && (
            <div class="att-fallback">{a.fallback}</div>
          )}
        </div>
        {a.thumb_url && <SafeImage class="att-thumb" url={a.thumb_url} alt="" />}
      </div>
    </div>
  );
}
