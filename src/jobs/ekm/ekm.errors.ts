/**
 * What an EKM request can be refused for. The service throws these; the admin controller maps each
 * class to its HTTP status (ekmHttpError), so no caller reads an error's message to decide.
 */
export class EkmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The provider asked for has no keys on this node (no master key, no KMS region): 400. */
export class EkmProviderNotConfigured extends EkmError {
  constructor(provider: string) {
    super(`EKM provider ${provider} is not configured on this node`);
  }
}

/** aws-kms without a key id: 400. */
export class EkmKeyIdRequired extends EkmError {
  constructor() {
    super('key_id (the KMS key id or ARN) is required for aws-kms');
  }
}

/** Enabling twice: 409. */
export class EkmAlreadyEnabled extends EkmError {
  constructor() {
    super('EKM is already enabled');
  }
}

/** Rotating or revoking where EKM is off: 404. */
export class EkmNotEnabled extends EkmError {
  constructor() {
    super('EKM is not enabled');
  }
}

/** Restoring a revocation that does not exist or was restored already: 404. */
export class RevocationNotFound extends EkmError {
  constructor() {
    super('no active revocation with this id');
  }
}

/** aws-kms key id outside the operator's allow list (AWS_KMS_KEY_ALLOW): 403. */
export class EkmKeyNotAllowed extends EkmError {
  constructor() {
    super('this key id is not in the allow list of this server (AWS_KMS_KEY_ALLOW)');
  }
}

/** The key could not wrap and unwrap a test key (missing, disabled, no grant): 400. */
export class EkmKeyUnusable extends EkmError {
  constructor() {
    super('the key could not wrap and unwrap a test key: check that it exists, is enabled and granted to this server');
  }
}
