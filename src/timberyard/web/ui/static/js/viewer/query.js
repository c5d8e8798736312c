// Query text the viewer builds and reads: the sidebar's filters joined to the user's search,
// field filters from the line detail, and the plain terms and phrases to highlight. Values are
// quoted and escaped per docs/query-language.md so any text stays a literal value.

const SECTIONS = [["apps", "app"], ["hosts", "host"], ["levels", "level"], ["tags", "tag"]];
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*:/;
const SAFE_FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** "value" with backslashes and double quotes escaped. */
export function quote(value) {
  return `"${String(value).replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

// Inside f:[...] a bare item ends at "," or "]"; anything else unusual is quoted.
function listItem(value) {
  return /^[^\s,[\]\\"'()]+$/.test(value) ? value : quote(value);
}

/** `path:"value"` for the detail's "Filter on" buttons, or null when no query can name the path. */
export function fieldFilter(path, value) {
  if (!SAFE_FIELD_PATH.test(path)) return null;
  return `${path}:${quote(value)}`;
}

/** Append a clause to the user's query text (AND). */
export function addClause(q, clause) {
  const text = q.trim();
  return text ? `${text} ${clause}` : clause;
}

/**
 * The query sent to the server: the sidebar filters (OR within a section as `f:[a,b]`, AND
 * across) then the user's query in parentheses. `except` leaves one section out (for its own
 * facet counts). Returns {text, offset}: offset maps server error positions back to q.
 */
export function effectiveQuery(state, except = null) {
  const clauses = [];
  for (const [key, field] of SECTIONS) {
    if (key === except) continue;
    const values = state[key] || [];
    if (values.length) clauses.push(`${field}:[${values.map(listItem).join(",")}]`);
  }
  const q = (state.q || "").trim();
  if (!clauses.length) return { text: q, offset: 0 };
  if (!q) return { text: clauses.join(" "), offset: 0 };
  const prefix = `${clauses.join(" ")} (`;
  return { text: `${prefix}${q})`, offset: prefix.length };
}

function skipQuoted(text, i) {
  const q = text[i];
  let j = i + 1;
  let out = "";
  while (j < text.length) {
    if (text[j] === "\\" && j + 1 < text.length) {
      out += text[j + 1];
      j += 2;
    } else if (text[j] === q) {
      return [out, j + 1];
    } else {
      out += text[j++];
    }
  }
  return [out, j];
}

function bareEnd(text, i) {
  while (i < text.length && !/[\s()]/.test(text[i])) i += text[i] === "\\" ? 2 : 1;
  return Math.min(i, text.length);
}

// Skip the value after "field:" : a group (...), a list [...], a quoted or a bare value.
function skipFieldValue(text, i) {
  if (text[i] === "(" || text[i] === "[") {
    const open = text[i];
    const close = open === "(" ? ")" : "]";
    let depth = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === "\\") { i += 2; continue; }
      if (c === '"' || c === "'") { i = skipQuoted(text, i)[1]; continue; }
      if (c === open) depth++;
      else if (c === close && --depth === 0) return i + 1;
      i++;
    }
    return i;
  }
  while (i < text.length && "=<>".includes(text[i])) i++;
  if (text[i] === '"' || text[i] === "'") return skipQuoted(text, i)[1];
  return bareEnd(text, i);
}

/**
 * The plain terms and phrases of a query that a matching line contains, for highlighting:
 * not field values, operators, or anything negated. Each is {text, phrase}: the text lower-cased
 * (ASCII), `phrase` for a quoted phrase (the server matches phrases anywhere, terms at a word
 * start). Longest first.
 */
export function highlightTerms(q) {
  const text = q || "";
  const terms = new Map(); // "t:" or "p:" + text -> {text, phrase}
  const add = (value, phrase) => {
    const item = { text: asciiLower(value), phrase };
    terms.set(`${phrase ? "p" : "t"}:${item.text}`, item);
  };
  const negated = [false]; // per parenthesis level
  let pendingNot = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { i++; continue; }
    const inNegation = negated[negated.length - 1] || pendingNot;
    if (c === "(") {
      negated.push(inNegation);
      pendingNot = false;
      i++;
    } else if (c === ")") {
      if (negated.length > 1) negated.pop();
      pendingNot = false;
      i++;
    } else if (c === "-") {
      pendingNot = true;
      i++;
    } else if (c === '"' || c === "'") {
      const [phrase, end] = skipQuoted(text, i);
      if (!inNegation && phrase.trim()) add(phrase, true);
      pendingNot = false;
      i = end;
    } else {
      const field = FIELD_NAME.exec(text.slice(i, i + 200));
      if (field) {
        i = skipFieldValue(text, i + field[0].length);
        pendingNot = false;
        continue;
      }
      const end = bareEnd(text, i);
      const word = text.slice(i, end);
      i = end;
      if (word === "NOT") { pendingNot = true; continue; }
      if (word === "AND" || word === "OR") continue;
      const plain = word.replace(/\\(.)/g, "$1");
      if (!inNegation && plain) add(plain, false);
      pendingNot = false;
    }
  }
  return [...terms.values()].sort((a, b) => b.text.length - a.text.length);
}

/** Lower-case ASCII letters only (as the server folds case), keeping every index in place. */
export function asciiLower(text) {
  return text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

function isAsciiAlnum(code) {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/**
 * [start, end) ranges in `text` where a term of highlightTerms matches, by the server's rule: a
 * term at the start or after a character that is not an ASCII letter or digit (a term starting
 * with punctuation, and a phrase, match anywhere). Merged, sorted.
 */
export function matchRanges(text, terms) {
  if (!terms.length || !text) return [];
  const folded = asciiLower(text);
  const found = [];
  for (const { text: term, phrase } of terms) {
    const anywhere = phrase || !isAsciiAlnum(term.charCodeAt(0));
    let at = folded.indexOf(term);
    while (at !== -1) {
      if (anywhere || at === 0 || !isAsciiAlnum(folded.charCodeAt(at - 1))) found.push([at, at + term.length]);
      at = folded.indexOf(term, at + 1);
    }
  }
  if (!found.length) return found;
  found.sort((a, b) => a[0] - b[0]);
  const merged = [found[0]];
  for (const [start, end] of found.slice(1)) {
    const last = merged[merged.length - 1];
    if (start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}
