// The tenant's reply templates, read once when the ticket view first needs them.
import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { ReplyTemplate } from "./types";

let cache: Promise<ReplyTemplate[]> | null = null;

function load(): Promise<ReplyTemplate[]> {
  cache ??= api<{ templates: ReplyTemplate[] }>("/v1/templates")
    .then((answer) => [...answer.templates].sort((a, b) => a.code.localeCompare(b.code)))
    .catch((error: unknown) => {
      cache = null;
      throw error;
    });
  return cache;
}

export function useTemplates(): ReplyTemplate[] {
  const [templates, setTemplates] = useState<ReplyTemplate[]>([]);
  useEffect(() => {
    let live = true;
    load().then((list) => live && setTemplates(list)).catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);
  return templates;
}
