import type { GateStatus } from '../analysis/gates.js';

/**
 * The gate graph as a Mermaid flowchart, ready to paste into a pull request or an issue:
 * an arrow from each required gate to the gate that requires it, unlocked and locked gates
 * styled differently. Gate ids and titles are user text: node ids are made safe and labels
 * escaped, so no title can break the chart.
 */
export function gatesMermaid(gates: GateStatus[]): string {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const g of gates) {
    let id = `gate_${g.id.replace(/[^A-Za-z0-9_]/g, '_')}`;
    while (used.has(id)) id += '_';
    used.add(id);
    ids.set(g.id, id);
  }
  const lines = ['flowchart LR'];
  for (const g of gates) {
    const mark = g.status === 'unlocked' ? 'unlocked' : g.ready ? 'locked, ready' : 'locked';
    const title = g.title ? `: ${g.title}` : '';
    // Owners are researcher ids: letters, digits, ".", "_" and "-" only.
    const owner = g.owner ? `<br/>${g.owner}` : '';
    lines.push(`  ${ids.get(g.id)}["${label(g.id + title)}${owner}<br/>${mark}"]`);
  }
  for (const g of gates) {
    for (const r of g.requires) if (ids.has(r)) lines.push(`  ${ids.get(r)} --> ${ids.get(g.id)}`);
  }
  lines.push('  classDef unlocked fill:#d4edda,stroke:#2e7d32,color:#1b5e20');
  lines.push('  classDef locked fill:#f8d7da,stroke:#c62828,color:#7f1d1d,stroke-dasharray:4 3');
  const unlocked = gates.filter((g) => g.status === 'unlocked').map((g) => ids.get(g.id));
  const locked = gates.filter((g) => g.status === 'locked').map((g) => ids.get(g.id));
  if (unlocked.length) lines.push(`  class ${unlocked.join(',')} unlocked`);
  if (locked.length) lines.push(`  class ${locked.join(',')} locked`);
  return lines.join('\n');
}

/** Mermaid entity codes for the characters that would end or change a quoted label. */
function label(text: string): string {
  return text
    .replace(/&/g, '#amp;')
    .replace(/"/g, '#quot;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/[\n\r]/g, ' ');
}
