// A list of short strings (tags, channels, keywords) typed comma- or line-separated.
import { useState } from "react";

interface Props {
  value: string[];
  onChange: (value: string[]) => void;
  placeholder?: string;
  testId?: string;
  lines?: boolean;
  id?: string;
}

export function parseList(text: string, lines = false): string[] {
  return text.split(lines ? /\n/ : /[,\n，]/).map((part) => part.trim()).filter(Boolean);
}

export function ListInput({ value, onChange, placeholder, testId, lines, id }: Props) {
  const joined = value.join(lines ? "\n" : ", ");
  const [text, setText] = useState(joined);
  const [seen, setSeen] = useState(joined);
  if (joined !== seen) {
    // the list changed from outside (another type picked, a reset): show it
    setSeen(joined);
    if (parseList(text, lines).join("\u0000") !== value.join("\u0000")) setText(joined);
  }
  const update = (next: string) => {
    setText(next);
    const list = parseList(next, lines);
    setSeen(list.join(lines ? "\n" : ", "));
    onChange(list);
  };
  return lines ? (
    <textarea id={id} rows={3} value={text} placeholder={placeholder} data-testid={testId}
              onChange={(event) => update(event.target.value)} />
  ) : (
    <input id={id} value={text} placeholder={placeholder} data-testid={testId}
           onChange={(event) => update(event.target.value)} />
  );
}
