/// A scenario file (events.md, "Scenario files"): events to fold, a day to evaluate them on, and what
/// the engine is expected to produce.
public struct Scenario: Sendable, Decodable {
    public struct Event: Sendable, Decodable {
        public var type: String
        public var occurredOn: String
        public var data: JSONValue?
    }

    public struct ExpectedDeadline: Sendable, Decodable {
        public var rule: String
        public var dueOn: String
        public var status: String?
        public var metOn: String?
        public var key: String?
    }

    public struct Expectation: Sendable, Decodable {
        public var deadlines: [ExpectedDeadline]?
        public var rejected: Bool?
        public var flags: [String]?
    }

    public var name: String
    public var asOf: String
    public var events: [Event]
    public var expect: Expectation?
}

/// What `ehcp scenario` prints for one file.
public struct ScenarioOutcome: Sendable, Encodable {
    public struct DeadlineLine: Sendable, Encodable {
        public var rule: String
        public var key: String?
        public var dueOn: String
        public var status: String
        public var metOn: String?

        enum CodingKeys: String, CodingKey { case rule, key, dueOn, status, metOn }
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(rule, forKey: .rule)
            try container.encode(key, forKey: .key)
            try container.encode(dueOn, forKey: .dueOn)
            try container.encode(status, forKey: .status)
            try container.encode(metOn, forKey: .metOn)
        }
    }

    public struct ErrorLine: Sendable, Encodable {
        public var rule: String?
        public var message: String
        public var code: String
        public var field: String?
        public var value: String?
        /// 1-based position of the rejected event in the file.
        public var event: Int?

        enum CodingKeys: String, CodingKey { case rule, message, code, field, value, event }
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(rule, forKey: .rule)
            try container.encode(message, forKey: .message)
            try container.encode(code, forKey: .code)
            try container.encodeIfPresent(field, forKey: .field)
            try container.encodeIfPresent(value, forKey: .value)
            try container.encodeIfPresent(event, forKey: .event)
        }
    }

    public var name: String
    public var deadlines: [DeadlineLine]
    public var flags: [Flag]
    public var error: ErrorLine?

    enum CodingKeys: String, CodingKey { case name, deadlines, flags, error }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(deadlines, forKey: .deadlines)
        try container.encode(flags, forKey: .flags)
        try container.encode(error, forKey: .error)
    }
}
