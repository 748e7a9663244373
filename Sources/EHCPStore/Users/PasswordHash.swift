import Crypto
import CryptoExtras
import Foundation

/// People's passwords, kept only as scrypt hashes (RFC 7914), for signing in to the web pages.
///
/// Stored as `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64), so the cost can rise later and old
/// hashes still verify. The cost is OWASP's recommended minimum for scrypt: N = 2^17, r = 8, p = 1
/// (128 MiB and about a quarter of a second here, per attempt).
public enum PasswordHash {
    static let logRounds = 17
    static let blockSize = 8
    static let parallelism = 1
    static let saltBytes = 16
    static let hashBytes = 32
    /// NCSC and NIST advise length over composition rules: 10 characters at least (three random words
    /// easily pass), 200 at most so that one attempt cannot be made costly on purpose.
    public static let lengths = 10...200

    /// A password that breaks `lengths`, with the rule in words.
    public struct Refused: Error, CustomStringConvertible {
        public var description: String
    }

    /// A hash of no one's password, checked when a name is unknown so that the refusal takes as long as a
    /// wrong password does.
    static let decoy: String = (try? make(UUID().uuidString)) ?? ""

    /// Runs `work` (hashing or checking passwords) on a thread of its own, never on Swift's cooperative
    /// pool: one scrypt takes a quarter of a second of CPU and 128 MiB, and on a two-core machine a few
    /// at once would stall every request. At most two run at a time; more wait their turn.
    public static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                slots.wait()
                defer { slots.signal() }
                continuation.resume(with: Result { try work() })
            }
        }
    }
    private static let queue = DispatchQueue(label: "ehcp.passwords", attributes: .concurrent)
    private static let slots = DispatchSemaphore(value: 2)

    /// Hashes a new password with a fresh random salt.
    public static func make(_ password: String) throws -> String {
        guard lengths.contains(password.count) else {
            throw Refused(
                description: "a password must be \(lengths.lowerBound) to \(lengths.upperBound) characters; three random words make a good one")
        }
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<saltBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let hash = try derive(password, salt: salt, logRounds: logRounds, blockSize: blockSize, parallelism: parallelism)
        return [
            "scrypt", String(logRounds), String(blockSize), String(parallelism), Data(salt).base64EncodedString(), Data(hash).base64EncodedString(),
        ]
        .joined(separator: "$")
    }

    /// Whether `password` is the one `stored` was made from. A malformed stored value verifies nothing.
    public static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt", let logRounds = Int(parts[1]), (10...20).contains(logRounds),
            let blockSize = Int(parts[2]), (1...32).contains(blockSize), let parallelism = Int(parts[3]), (1...16).contains(parallelism),
            let salt = Data(base64Encoded: String(parts[4])), let expected = Data(base64Encoded: String(parts[5])), expected.count == hashBytes,
            lengths.contains(password.count),
            let actual = try? derive(password, salt: Array(salt), logRounds: logRounds, blockSize: blockSize, parallelism: parallelism)
        else { return false }
        // Compared in constant time: how much matched never shows in how long it took.
        return zip(actual, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func derive(_ password: String, salt: [UInt8], logRounds: Int, blockSize: Int, parallelism: Int) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: hashBytes, rounds: 1 << logRounds, blockSize: blockSize,
            parallelism: parallelism, maxMemory: 256 * 1024 * 1024)
        return key.withUnsafeBytes { Array($0) }
    }
}
