import { runService } from '@gridstream/runtime';
import { startArchive } from './run.ts';

await runService('event archive', startArchive);
