// The one place to change: where the login endpoint is.
// Local development: `npm start` serves http://localhost:2020/openid (turn off domain checking
// in the devtools: Details → Local Settings → "Do not verify valid domain names").
// Production: the EndpointUrl output of `cdk deploy`, a domain registered in the mini program
// admin console under request legal domains.
module.exports = {
  LOGIN_URL: 'http://localhost:2020/openid',
};
