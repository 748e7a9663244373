import Digest
import Testing

@Suite("SHA-256 and HMAC-SHA256 against the published test vectors")
struct SHA256Tests {
    @Test(
        "FIPS 180-2 examples: empty, \"abc\", the 448-bit message, one million 'a'",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            (String(repeating: "a", count: 1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
        ])
    func hash(message: String, expected: String) {
        #expect(SHA256.hash(Array(message.utf8)).hex == expected)
    }

    @Test("a message fed in pieces hashes as a whole (block boundaries at 55, 56, 64 bytes)", arguments: [55, 56, 63, 64, 65, 119, 120])
    func incremental(length: Int) {
        let bytes = (0..<length).map { UInt8($0 & 0xff) }
        var hasher = SHA256()
        hasher.update(bytes.prefix(length / 3))
        hasher.update(bytes.dropFirst(length / 3))
        #expect(hasher.finalize() == SHA256.hash(bytes))
    }

    @Test(
        "RFC 4231 HMAC-SHA256 test cases 1, 2 and 6 (a key longer than a block)",
        arguments: [
            ([UInt8](repeating: 0x0b, count: 20), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Array("Jefe".utf8), "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            (
                [UInt8](repeating: 0xaa, count: 131), "Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
            ),
        ])
    func hmac(key: [UInt8], message: String, expected: String) {
        #expect(SHA256.hmac(key: key, message: Array(message.utf8)).hex == expected)
    }
}
