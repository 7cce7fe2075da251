// The map's extensions (see ../extensions.js). One import per module; order is panel order.
