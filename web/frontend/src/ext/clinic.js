// Health: "find my clinic" by address or a point on the map (see mine.js; words: clinic.* in the catalog).
import { mineExtension } from './mine.js';

mineExtension({
  name: 'clinic',
  kind: 'clinic',
  api: '/api/modules/clinics/mine',
  areas: 'clinic_areas',
  facilities: 'clinics',
  color: '#d81b60',
});
