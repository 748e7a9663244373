import ArgumentParser
import EHCPCommandLine
import EHCPStore
import Foundation
import Logging
import Postgres

/// `ehcp users add NAME --role R [--council C]`: adds a user and prints a bearer token for them.
struct UsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Manage users.",
        subcommands: [Add.self, List.self, SetEmail.self, Passwd.self, ResetSecondFactor.self, Disable.self, Enable.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user and print a new bearer token for them.")

        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The user's name (unique within the council).") var name: String
        @Option(help: "caseworker, manager, admin or auditor.") var role: UserRole
        @Option(help: "Council code (optional when there is only one council).") var council: String?
        @Option(help: "Team, for caseworkers and managers.") var team: String?
        @Option(help: "Days until the token expires.") var days = 90
        @Option(help: "Where their deadline alerts are emailed (work address; they choose which emails in the web pages).") var email: String?

        func validate() throws {
            if let email, !EmailChoices.isAddress(email) { throw ValidationError(UserDirectory.Failure.notAnAddress(email).description) }
        }

        func run() throws {
            try database.withDirectory { directory, connection in
                let councilId = try directory.council(code: council, on: connection)
                let user = try directory.addUser(name: name, role: role, team: team, council: councilId, on: connection)
                if let email { try directory.setEmail(userId: user, address: email, on: connection) }
                let token = try directory.createToken(userId: user, label: "created by ehcp users add", validFor: days, on: connection)
                print("\(name) (\(role.rawValue)) token, valid \(days) days; it is shown only now:\n\(token)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a council's users, their roles, their live tokens and how they sign in to the web pages.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Council code (optional when there is only one council).") var council: String?

        func run() throws {
            try database.withDirectory(migrating: false) { directory, connection in
                print(["name", "role", "team", "status", "live tokens", "last expires", "web sign-in", "email"].joined(separator: "\t"))
                for user in try directory.list(council: try directory.council(code: council, on: connection), on: connection) {
                    let fields = [
                        user.name, user.role.rawValue, user.team ?? "-", user.disabled ? "disabled" : "active", String(user.liveTokens),
                        user.lastExpiry ?? "-", user.hasSecondFactor ? "password + app" : user.hasPassword ? "password" : "-",
                        (user.email ?? "-") + (user.emailFailed ? " (bounced)" : ""),
                    ]
                    print(fields.joined(separator: "\t"))
                }
            }
        }
    }

    struct SetEmail: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-email", abstract: "Set the address a user's deadline alerts are emailed to (and clear a note that the old one bounced)."
        )
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The user's name.") var name: String
        @Argument(help: "Their work email address.") var address: String?
        @Flag(help: "Remove the address: no more emails.") var remove = false
        @Option(help: "Council code (optional when there is only one council).") var council: String?

        func validate() throws {
            guard (address == nil) == remove else { throw ValidationError("give an address, or --remove, not both") }
            if let address, !EmailChoices.isAddress(address) { throw ValidationError(UserDirectory.Failure.notAnAddress(address).description) }
        }

        func run() throws {
            try database.withDirectory { directory, connection in
                let userId = try directory.userId(name: name, councilCode: council, on: connection)
                try directory.setEmail(userId: userId, address: address, on: connection)
                print(address.map { "\(name)'s alerts will be emailed to \($0)." } ?? "\(name) will get no more emails.")
            }
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a user (a leaver): every token stops working within 5 seconds; lists what they still hold.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The user's name.") var name: String
        @Option(help: "Council code (optional when there is only one council).") var council: String?

        func run() throws {
            try database.withDirectory { directory, connection in
                let councilId = try directory.council(code: council, on: connection)
                let userId = try directory.userId(name: name, council: councilId, on: connection)
                let revoked = try directory.disable(userId: userId, on: connection)
                print("\(name) disabled; \(revoked) live token\(revoked == 1 ? "" : "s") revoked.")
                let open = try directory.openCases(assignedTo: name, council: councilId, on: connection)
                if open > 0 {
                    print(
                        "\(open) open case\(open == 1 ? " is" : "s are") still assigned to \(name): a manager can list them with GET /v1/cases?caseworker=\(name) and reassign each."
                    )
                }
            }
        }
    }

    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a user's password for the web pages, read from standard input (never an argument).",
            discussion: "At least 10 characters; three random words make a good one. Only its scrypt hash is kept.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The user's name.") var name: String
        @Option(help: "Council code (optional when there is only one council).") var council: String?

        func run() throws {
            try database.withDirectory { directory, connection in
                let userId = try directory.userId(name: name, councilCode: council, on: connection)
                if isatty(STDIN_FILENO) != 0 { FileHandle.standardError.write(Data("New password for \(name), then Enter: ".utf8)) }
                guard let password = readLine(strippingNewline: true), !password.isEmpty else {
                    throw ExitMessage.message("no password on standard input")
                }
                do { try directory.setPassword(userId: userId, password: password, on: connection) } catch let refused as PasswordHash.Refused {
                    throw ExitMessage.message(refused.description)
                }
                print("Password set for \(name).")
            }
        }
    }

    struct ResetSecondFactor: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-2fa", abstract: "Forget a user's authenticator app (a lost phone); they set up a new one when they next sign in.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The user's name.") var name: String
        @Option(help: "Council code (optional when there is only one council).") var council: String?

        func run() throws {
            try database.withDirectory { directory, connection in
                let userId = try directory.userId(name: name, councilCode: council, on: connection)
                try directory.resetSecondFactor(userId: userId, on: connection)
                print("\(name)'s authenticator app is forgotten and their sessions have ended; they set up a new one at their next sign-in.")
            }
        }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let a disabled user back in (then give them a token with ehcp tokens create).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The user's name.") var name: String
        @Option(help: "Council code (optional when there is only one council).") var council: String?

        func run() throws {
            try database.withDirectory { directory, connection in
                let userId = try directory.userId(name: name, councilCode: council, on: connection)
                try directory.enable(userId: userId, on: connection)
                print("\(name) enabled; give them a token with: ehcp tokens create --user \(name)")
            }
        }
    }
}

/// `ehcp tokens create|list|revoke`.
struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens", abstract: "Create, list or revoke bearer tokens.", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a new token for an existing user.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The user's name.") var user: String
        @Option(help: "Council code (optional when there is only one council).") var council: String?
        @Option(help: "Days until the token expires.") var days = 90

        func run() throws {
            try database.withDirectory { directory, connection in
                let userId = try directory.userId(name: user, councilCode: council, on: connection)
                let token = try directory.createToken(userId: userId, label: "created by ehcp tokens create", validFor: days, on: connection)
                print(token)
                let id = try directory.tokenId(of: token, on: connection)
                FileHandle.standardError.write(Data("Token id \(id): revoke it with 'ehcp tokens revoke --id \(id)'.\n".utf8))
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a user's tokens by id (never the tokens themselves).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The user's name.") var user: String
        @Option(help: "Council code (optional when there is only one council).") var council: String?

        func run() throws {
            try database.withDirectory(migrating: false) { directory, connection in
                let userId = try directory.userId(name: user, councilCode: council, on: connection)
                print("id            state    expires     label")
                for token in try directory.tokens(userId: userId, on: connection) {
                    print("\(token.id)  \(token.state.padding(toLength: 7, withPad: " ", startingAt: 0))  \(token.expiresOn)  \(token.label ?? "")")
                }
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token read from standard input, or by --id, or every live token of a --user; it stops working within 5 seconds.",
            discussion: "The token itself is never an argument, where it would show in the process list and the shell's history.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Revoke the token with this id (from 'ehcp tokens list' or 'ehcp tokens create').") var id: String?
        @Option(help: "Revoke every live token of this user instead (a lost device).") var user: String?
        @Option(help: "Council code, with --user (optional when there is only one council).") var council: String?

        func validate() throws {
            if id != nil && user != nil { throw ValidationError("give --id or --user, not both (or neither, and the token on standard input)") }
        }

        func run() throws {
            try database.withDirectory { directory, connection in
                if let id {
                    try directory.revoke(id: id, on: connection)
                    print("Revoked.")
                } else if let user {
                    let userId = try directory.userId(name: user, councilCode: council, on: connection)
                    let revoked = try directory.revokeAll(userId: userId, on: connection)
                    print("Revoked \(revoked) live token\(revoked == 1 ? "" : "s") of \(user).")
                } else {
                    if isatty(STDIN_FILENO) != 0 { FileHandle.standardError.write(Data("Paste the token to revoke and press Enter: ".utf8)) }
                    guard let token = readLine()?.trimmingCharacters(in: .whitespaces), !token.isEmpty else {
                        throw ExitMessage.message("no token on standard input; or give --id ID or --user NAME")
                    }
                    try directory.revoke(token: token, on: connection)
                    print("Revoked.")
                }
            }
        }
    }
}

extension UserRole: ExpressibleByArgument {}

extension DatabaseOptions {
    /// Runs a user or token command as the owner, reporting every failure as one clean line.
    /// `migrating` false for the commands that only list: they refuse a stale schema rather than change it.
    func withDirectory(migrating: Bool = true, _ body: (UserDirectory, PostgresConnection) throws -> Void) throws {
        try reportingCleanly {
            let resolved = try openMigrated(logger: Logger(label: "ehcp.users"), migrating: migrating, serving: false)
            defer { resolved.close() }
            let connection = try connect(resolved.owner)
            defer { connection.close() }
            do {
                try body(UserDirectory(), connection)
            } catch let failure as UserDirectory.Failure {
                throw ExitMessage.message(failure.description)
            }
        }
    }
}

/// `ehcp councils add CODE --name NAME` and `ehcp councils list`: the tenants.
struct CouncilsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "councils", abstract: "Add or list councils (tenants).", subcommands: [Add.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a council.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "A short unique code, e.g. the ONS code E10000030.") var code: String
        @Option(help: "The council's name.") var name: String

        func run() throws {
            try database.withDirectory { _, connection in
                let added = try connection.query(
                    "INSERT INTO councils (council_id, code, name) VALUES ($1, $2, $3) ON CONFLICT (code) DO NOTHING", [UUID(), code, name]
                ).affected
                guard added == 1 else { throw ExitMessage.message("a council with code '\(code)' already exists") }
                print("council \(code) (\(name)) added; add its users with: ehcp users add NAME --role admin --council \(code)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List councils.")
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            try database.withDirectory(migrating: false) { _, connection in
                for row in try connection.query("SELECT code, name FROM councils ORDER BY code").rows {
                    print("\(try row.decode(String.self, at: 0))\t\(try row.decode(String.self, at: 1))")
                }
            }
        }
    }
}

extension UserDirectory {
    /// The user of this name in the council with this code (or the only council), as the commands name them.
    func userId(name: String, councilCode: String?, on connection: PostgresConnection) throws -> UUID {
        try userId(name: name, council: try council(code: councilCode, on: connection), on: connection)
    }
}
