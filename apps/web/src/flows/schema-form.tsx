import { INTERNAL_FIELD } from '@parley/contracts';
import type { JSX } from 'preact';
import { Field } from '../ui/field.js';

/** The JSON Schema subset flows declare (zod's toJSONSchema of an object). */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  description?: string;
  title?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  /** Filled in by a program, never typed by a person (contracts INTERNAL_FIELD). */
  [INTERNAL_FIELD]?: boolean;
}

/** The fields a person fills in: internal ones (e.g. the chat flow's messageId) are left out. */
const visible = (schema: JsonSchema) => Object.entries(schema.properties ?? {}).filter(([, p]) => p[INTERNAL_FIELD] !== true);

export type FormValues = Record<string, unknown>;

export function initialValues(schema: JsonSchema): FormValues {
  const out: FormValues = {};
  for (const [k, p] of visible(schema)) if (p.default !== undefined) out[k] = p.default;
  return out;
}

/** Only what the user filled in, typed by the schema; the server validates again. */
export function toInput(schema: JsonSchema, values: FormValues): FormValues {
  const out: FormValues = {};
  for (const [k, p] of visible(schema)) {
    const v = values[k];
    if (v === undefined || v === '') continue;
    const t = typeOf(p);
    if (t === 'number' || t === 'integer') out[k] = Number(v);
    else if (t === 'object' || t === 'array') out[k] = typeof v === 'string' ? JSON.parse(v) : v;
    else out[k] = v;
  }
  return out;
}

const typeOf = (p: JsonSchema) => (Array.isArray(p.type) ? p.type.find((t) => t !== 'null') : p.type) ?? 'string';

export function SchemaFields({ schema, values, onChange }: { schema: JsonSchema; values: FormValues; onChange(v: FormValues): void }): JSX.Element {
  const props = visible(schema);
  if (props.length === 0) return <p class="muted">This flow takes no input.</p>;
  return (
    <>
      {props.map(([name, p]) => {
        const id = `field-${name}`;
        const required = schema.required?.includes(name) ?? false;
        const set = (v: unknown) => onChange({ ...values, [name]: v });
        const t = typeOf(p);
        const described = p.description ? `${id}-d` : undefined;
        const label = `${p.title ?? name}${required ? '' : ' (optional)'}`;
        if (t === 'boolean') {
          return (
            <div key={name} class="field">
              <label class="check">
                <input id={id} type="checkbox" checked={values[name] === true} onChange={(e) => set(e.currentTarget.checked)} aria-describedby={described} />{' '}
                {label}
              </label>
              {p.description && (
                <span class="muted small" id={`${id}-d`}>
                  {p.description}
                </span>
              )}
            </div>
          );
        }
        const value = String(values[name] ?? '');
        const common = { id, required, value, 'aria-describedby': described };
        const long = t === 'object' || t === 'array' || (p.maxLength ?? 0) > 200;
        return (
          <Field key={name} id={id} label={label} hint={p.description}>
            {p.enum ? (
              <select {...common} onChange={(e) => set(e.currentTarget.value)}>
                {!required && <option value="">—</option>}
                {p.enum.map((o) => (
                  <option key={String(o)}>{String(o)}</option>
                ))}
              </select>
            ) : t === 'number' || t === 'integer' ? (
              <input {...common} type="number" min={p.minimum} max={p.maximum} step={t === 'integer' ? 1 : 'any'} onInput={(e) => set(e.currentTarget.value)} />
            ) : long ? (
              <textarea {...common} rows={4} maxLength={p.maxLength} onInput={(e) => set(e.currentTarget.value)} />
            ) : (
              <input {...common} minLength={p.minLength} maxLength={p.maxLength} onInput={(e) => set(e.currentTarget.value)} />
            )}
          </Field>
        );
      })}
    </>
  );
}
