package web_test

import "github.com/aktobe/geoportal/web/webtest"

// The live vehicle tests moved to web/live; the pages' tests here post positions the same way.
var (
	newTransitServer = webtest.NewTransit
	postPositions    = webtest.PostPositions
)
