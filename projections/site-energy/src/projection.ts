import type { ProjectionDefinition } from '@gridstream/projection';
import { evolveSiteDay, siteDayId } from './evolve.ts';
import type { SiteDayView } from './evolve.ts';

/** Per site and local day, from the energy topic's 15-minute events. */
export const siteEnergyProjection: ProjectionDefinition<SiteDayView> = {
  name: 'site_energy',
  version: 1,
  topics: ['energy'],
  documentId: siteDayId,
  evolve: evolveSiteDay,
  indexes: [{ key: { 'state.tenant': 1, 'state.siteId': 1, 'state.date': 1 } }],
};
