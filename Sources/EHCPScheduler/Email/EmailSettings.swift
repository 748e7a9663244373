import SMTP

/// How the service sends email, from the settings file's `email` section (docs/operations.md, "Email").
public struct EmailSettings: Sendable {
    public enum Transport: Sendable {
        /// A council's own relay.
        case smtp(SMTPClient.Configuration)
        /// GOV.UK Notify: a template id per kind of email ('breach', 'reminder', 'digest').
        case notify(baseURL: String, key: NotifyClient.APIKey, templates: [String: String], replyTo: String?)

        public var name: String {
            switch self {
            case .smtp: "smtp"
            case .notify: "notify"
            }
        }
    }

    public var transport: Transport
    /// The From address for SMTP (`Name <address>` or an address). Notify sends from the service's own.
    public var from: String
    /// When the daily digest goes, London time, in minutes after midnight.
    public var digestAt: Int
    /// Attempts, backoff, lease and batch.
    public var retry = OutboxPolicy()

    public init(transport: Transport, from: String, digestAt: Int = 7 * 60) {
        self.transport = transport
        self.from = from
        self.digestAt = digestAt
    }
}
