import EHCPDomain
import Foundation

/// England's published figures, to show beside a council's own: the DfE's "Education, health and care
/// plans" statistics, shipped as data in `Resources/england.json` with the source of each. A later
/// year is a change to that file alone; this type only reads it.
public struct EnglandFigures: Sendable, Decodable {
    public struct Figure: Sendable, Hashable, Codable {
        public var measure: String
        /// K-20W: `excluded` (the headline) or `included` exceptions.
        public var variant: String?
        public var year: Int
        public var percent: Double
        public var numerator: Int?
        public var denominator: Int?
        /// A key of `sources`.
        public var source: String
    }

    /// The DfE's annual-review counts for England, with the DfE's variable names.
    public struct AnnualReviews: Sendable, Hashable, Codable {
        public var year: Int
        public var reviewExpected: Int
        public var reviewCompleted: Int
        public var outcomeAmended: Int
        public var outcomeMaintained: Int
        public var outcomeCeased: Int
        public var noOutcomeRecorded: Int
        public var decision4Weeks: Int
        public var decisionOver4Weeks: Int
        public var source: String

        enum CodingKeys: String, CodingKey {
            case year, source
            case reviewExpected = "review_expected"
            case reviewCompleted = "review_completed"
            case outcomeAmended = "outcome_amended"
            case outcomeMaintained = "outcome_maintained"
            case outcomeCeased = "outcome_ceased"
            case noOutcomeRecorded = "no_outcome_recorded"
            case decision4Weeks = "decision_4_weeks"
            case decisionOver4Weeks = "decision_over_4_weeks"
        }
    }

    public struct PlansInPlace: Sendable, Hashable, Codable {
        public var census: String
        public var plans: Int
        public var source: String
    }

    public var sources: [String: String]
    public var figures: [Figure]
    public var annualReviews: [AnnualReviews]
    public var plansInPlace: [PlansInPlace]

    /// The figures this build ships.
    public static let shipped: EnglandFigures = {
        guard let url = Bundle.module.url(forResource: "england", withExtension: "json"),
            let data = try? Data(contentsOf: url),
            let figures = try? JSONDecoder().decode(EnglandFigures.self, from: data)
        else { preconditionFailure("Resources/england.json is missing or malformed: the build is broken") }
        return figures
    }()

    /// England's figure for a measure and calendar year (K-20W: with or without exceptions), if published.
    public func figure(_ measure: Measure, exceptions: ExceptionsPolicy, year: Int) -> Figure? {
        figures.first {
            $0.measure == measure.rawValue && $0.year == year && ($0.variant == nil || $0.variant == exceptions.rawValue)
        }
    }

    /// England's latest figure for a measure published for `year` or earlier, if any.
    public func latest(_ measure: Measure, exceptions: ExceptionsPolicy, upTo year: Int) -> Figure? {
        figures.filter { $0.measure == measure.rawValue && $0.year <= year && ($0.variant == nil || $0.variant == exceptions.rawValue) }
            .max { $0.year < $1.year }
    }

    /// Where a figure comes from, in words and an address.
    public func source(of figure: Figure) -> String { sources[figure.source] ?? figure.source }
}
