// exceljs_peer.js — the peer of bench "dashboard_xlsx": exceljs's streaming
// WorkbookWriter writes the same rows our XLSX export writes (read from the
// CSV our export produced, so both sides see the same data): sheet of
// orders with dates as dates, money as numbers in a rouble format, frozen
// header, autofilter; a second small sheet. Prints one JSON object:
// {"rows":N,"seconds":S,"max_rss_kb":K}.
// usage: node exceljs_peer.js IN.csv OUT.xlsx
'use strict';
const fs = require('fs');
const readline = require('readline');
const ExcelJS = require('exceljs');

function parseCsvLine(line) {
  const out = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let s = '';
      i++;
      for (;;) {
        if (line[i] === '"' && line[i + 1] === '"') { s += '"'; i += 2; continue; }
        if (line[i] === '"') { i++; break; }
        s += line[i++];
      }
      out.push(s);
      i++;
    } else {
      let j = line.indexOf(',', i);
      if (j < 0) j = line.length;
      out.push(line.slice(i, j));
      i = j + 1;
    }
  }
  return out;
}

function mskDate(s) { return s ? new Date(s.replace(' ', 'T') + 'Z') : null; }

async function main() {
  const [inPath, outPath] = process.argv.slice(2);
  const t0 = process.hrtime.bigint();
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: outPath, useStyles: true, useSharedStrings: false });
  const ws = wb.addWorksheet('Заказы', { views: [{ state: 'frozen', ySplit: 1 }] });
  const widths = [20, 22, 14, 28, 16, 40, 18, 14, 17, 17];
  ws.columns = widths.map((w, k) => ({ width: w, style: k === 7 ? { numFmt: '#,##0.00\\ "₽"' }
                                                  : k >= 8 ? { numFmt: 'dd.mm.yyyy hh:mm' } : {} }));
  const rl = readline.createInterface({ input: fs.createReadStream(inPath), crlfDelay: Infinity });
  let rows = 0, header = true;
  for await (let line of rl) {
    if (header) {
      line = line.replace(/^\uFEFF/, '');
      ws.addRow(parseCsvLine(line)).commit();
      header = false;
      continue;
    }
    const f = parseCsvLine(line);
    ws.addRow([f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7] ? Number(f[7]) : null, mskDate(f[8]), mskDate(f[9])]).commit();
    rows++;
  }
  ws.autoFilter = { from: 'A1', to: { row: rows + 1, column: 10 } };
  ws.commit();
  const kpi = wb.addWorksheet('Показатели');
  kpi.addRow(['Показатель', 'Значение']).commit();
  kpi.addRow(['Оформлено', rows]).commit();
  kpi.commit();
  await wb.commit();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ rows, seconds: secs, max_rss_kb: process.resourceUsage().maxRSS }));
}

main().catch((e) => { console.error(e); process.exit(1); });
