/**
 * Removing the schema subjects that one run made (the demo, the bench, a test
 * run), found by their topic prefix: each deleted, then deleted for good
 * (Confluent keeps a soft-deleted subject's versions until then).
 */
export async function deleteSubjectsWithPrefix(
  registryUrl: string,
  prefix: string,
): Promise<number> {
  if (prefix === '') throw new Error('refusing to delete every subject: no prefix given');
  const response = await fetch(`${registryUrl}/subjects`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`GET ${registryUrl}/subjects answered ${response.status}`);
  const subjects = ((await response.json()) as string[]).filter((subject) =>
    subject.startsWith(prefix),
  );
  for (const subject of subjects) {
    const url = `${registryUrl}/subjects/${encodeURIComponent(subject)}`;
    await fetch(url, { method: 'DELETE', signal: AbortSignal.timeout(5000) });
    await fetch(`${url}?permanent=true`, { method: 'DELETE', signal: AbortSignal.timeout(5000) });
  }
  return subjects.length;
}
