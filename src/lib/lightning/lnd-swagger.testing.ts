// LND's REST API as LND publishes it (its swagger files, recorded in fixtures/), for tests outside
// this area that hold a server or a client to it (the devnet's simnet gateway).
import invoicesSwagger from './fixtures/invoices.swagger.json' with { type: 'json' };
import lightningSwagger from './fixtures/lightning.swagger.json' with { type: 'json' };
import routerSwagger from './fixtures/router.swagger.json' with { type: 'json' };

export { invoicesSwagger, lightningSwagger, routerSwagger };
