package salesforce

// DefaultJWTAudience exposes defaultAudience to the tests.
var DefaultJWTAudience = defaultAudience
