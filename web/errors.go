package web

import "github.com/aktobe/geoportal"

var errPendingMigrations = geoportal.Errorf(geoportal.EUNAVAILABLE, "database has pending migrations")
