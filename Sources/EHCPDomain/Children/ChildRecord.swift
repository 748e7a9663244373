import Foundation

/// A child's personal details (kept in `children`, never in events).
public struct ChildRecord: Sendable, Hashable {
    public var id: UUID
    public var forename: String
    public var surname: String
    public var bornOn: CivilDate
    public var sex: String?
    public var postcode: String?
    public var upn: String?

    /// A forename or surname is 1 to 100 characters, not all spaces.
    public static func acceptsName(_ name: String) -> Bool { !name.trimmingCharacters(in: .whitespaces).isEmpty && name.count <= 100 }

    public init(id: UUID, forename: String, surname: String, bornOn: CivilDate, sex: String?, postcode: String?, upn: String?) {
        self.id = id
        self.forename = forename
        self.surname = surname
        self.bornOn = bornOn
        self.sex = sex
        self.postcode = postcode
        self.upn = upn
    }
}
