export * from './decide.ts';
export * from './decide-tariff.ts';
export * from './store.ts';
export * from './write-side.ts';
export * from './requests.ts';
export * from './connect.ts';
