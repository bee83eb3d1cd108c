import { describe, expect, it } from 'vitest';
import { formatOfFile, readRegistrations } from './registry-cli.ts';

const HEADER = 'deviceId,siteId,kind,role,name,ratedPowerW';

describe('readRegistrations', () => {
  it('refuses a line with a stray quote alone, and reads the lines after it', () => {
    // given a CSV whose second registration has a quote in the middle of a field
    const text = [
      HEADER,
      'a,farm,meter,grid,A,',
      '"b"x,farm,meter,grid,B,',
      'c,farm,meter,grid,C,',
    ];
    // when it is read
    const lines = readRegistrations(text.join('\n'), 'csv');
    // then only that line is unreadable
    expect(lines.map((l) => [l.line, l.refusal?.reason])).toEqual([
      [2, undefined],
      [3, 'unreadable-line'],
      [4, undefined],
    ]);
    expect(lines[2]?.value).toEqual({
      deviceId: 'c',
      siteId: 'farm',
      kind: 'meter',
      role: 'grid',
      name: 'C',
    });
  });

  it('numbers lines as the file does: a byte order mark, CRLF, blank and quoted lines', () => {
    const text = `\uFEFF${HEADER}\r\n\r\na,farm,meter,grid,"A, the first",1500.5\r\n`;
    expect(readRegistrations(text, 'csv')).toEqual([
      {
        line: 3,
        value: {
          deviceId: 'a',
          siteId: 'farm',
          kind: 'meter',
          role: 'grid',
          name: 'A, the first',
          ratedPowerW: 1500.5,
        },
      },
    ]);
  });

  it('refuses a number that is not a decimal one, and a line of too few fields', () => {
    const text = [HEADER, 'a,farm,meter,grid,A,0x10', 'b,farm,meter,grid,B,1e3', 'c,farm'];
    expect(readRegistrations(text.join('\n'), 'csv').map((l) => l.refusal?.message)).toEqual([
      'ratedPowerW: "0x10" is not a number',
      undefined,
      '2 fields, the header names 6',
    ]);
  });

  it('throws for a header without the registration columns', () => {
    expect(() => readRegistrations('deviceId,site,kind,role,name\n', 'csv')).toThrow(
      'the CSV header: unknown column site, no column siteId',
    );
    expect(() => readRegistrations(`${HEADER},name\n`, 'csv')).toThrow('column name twice');
  });

  it('reads NDJSON a line at a time, an unparsable line refused with its number', () => {
    const lines = readRegistrations('{"deviceId":"a"}\n\n{"deviceId":\n', 'ndjson');
    expect(lines.map((l) => [l.line, l.refusal?.reason])).toEqual([
      [1, undefined],
      [3, 'unreadable-line'],
    ]);
  });
});

describe('formatOfFile', () => {
  it('knows a format by the extension, and no other', () => {
    expect(['f.CSV', 'f.ndjson', 'f.jsonl', 'f.json', 'f'].map(formatOfFile)).toEqual([
      'csv',
      'ndjson',
      'ndjson',
      undefined,
      undefined,
    ]);
  });
});
