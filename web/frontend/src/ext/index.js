// The map's extensions (see ../extensions.js). One import per module; order is panel order.
import './live.js';
import './outages.js';
import './clinic.js';
import './school.js';
import './access.js';
import './leisure.js';
import './lighting.js';
import './yards.js';
import './reportsheat.js';
