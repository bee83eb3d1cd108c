import { runService } from '@gridstream/runtime';
import { startMqttBridge } from './bridge.ts';

await runService('mqtt bridge', (config) => startMqttBridge(config));
