/// A QR code (ISO/IEC 18004), made here because no package we may use draws one: byte mode, error
/// correction level M, versions 1 to 10 (up to 213 bytes, plenty for an `otpauth://` address), drawn
/// as SVG on the server for the two-factor enrolment page.
///
/// The steps are the standard's: encode the bytes, add Reed–Solomon error correction per block and
/// interleave the blocks, draw the finder, timing and alignment patterns and the version and format
/// information, place the codewords in the zigzag, and keep the mask with the lowest penalty.
struct QRCode: Sendable {
    /// Modules by row, true for dark.
    private(set) var modules: [[Bool]]
    let version: Int
    var size: Int { modules.count }

    /// Per version (index 0 is version 1), at level M: all codewords, error-correction codewords per
    /// block, and blocks (ISO/IEC 18004 table 9).
    private static let capacities: [(total: Int, eccPerBlock: Int, blocks: Int)] = [
        (26, 10, 1), (44, 16, 1), (70, 26, 1), (100, 18, 2), (134, 24, 2), (172, 16, 4), (196, 18, 4), (242, 22, 4), (292, 22, 5),
        (346, 26, 5),
    ]
    /// Centres of the alignment patterns, per version (none for version 1).
    private static let alignment: [[Int]] = [
        [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50],
    ]

    struct TooLong: Error {}

    /// The smallest code that holds `bytes`; `mask` forces a mask (0 to 7) instead of the best one.
    init(bytes: [UInt8], mask forced: Int? = nil) throws {
        guard
            let version = (1...10).first(where: { version in
                let (total, ecc, blocks) = Self.capacities[version - 1]
                return 4 + (version < 10 ? 8 : 16) + 8 * bytes.count <= 8 * (total - ecc * blocks)
            })
        else { throw TooLong() }
        self.version = version
        let size = 17 + 4 * version
        modules = Array(repeating: Array(repeating: false, count: size), count: size)
        var reserved = modules
        Self.drawPatterns(version: version, size: size, modules: &modules, reserved: &reserved)
        let codewords = Self.codewords(bytes, version: version)
        Self.place(codewords, modules: &modules, reserved: reserved)
        var best: (penalty: Int, modules: [[Bool]])?
        for mask in forced.map({ [$0] }) ?? Array(0..<8) {
            var masked = modules
            Self.apply(mask: mask, to: &masked, reserved: reserved)
            Self.drawFormat(mask: mask, size: size, modules: &masked)
            let penalty = forced == nil ? Self.penalty(masked) : 0
            if best == nil || penalty < best!.penalty { best = (penalty, masked) }
        }
        modules = best!.modules
    }

    /// The code as an SVG image with a 4-module quiet zone, one path for the dark modules.
    func svg(label: String, pixelsPerModule: Int = 5) -> String {
        let side = size + 8
        var path = ""
        for (y, row) in modules.enumerated() {
            for (x, dark) in row.enumerated() where dark { path += "M\(x + 4) \(y + 4)h1v1h-1z" }
        }
        let escaped = label.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(side) \(side)" width="\(side * pixelsPerModule)" height="\(side * pixelsPerModule)" \
            role="img" aria-label="\(escaped)" shape-rendering="crispEdges"><rect width="\(side)" height="\(side)" fill="#ffffff"/>\
            <path d="\(path)" fill="#0b0c0c"/></svg>
            """
    }

    // MARK: - Codewords

    /// Mode, length, bytes, terminator and padding, then error correction by block, interleaved.
    private static func codewords(_ bytes: [UInt8], version: Int) -> [UInt8] {
        let (total, eccLength, blocks) = capacities[version - 1]
        let dataLength = total - eccLength * blocks
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) { for i in (0..<count).reversed() { bits.append((value >> i) & 1 == 1) } }
        append(0b0100, 4)
        append(bytes.count, version < 10 ? 8 : 16)
        for byte in bytes { append(Int(byte), 8) }
        append(0, min(4, 8 * dataLength - bits.count))
        append(0, (8 - bits.count % 8) % 8)
        var data = stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<start + 8].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) }
        }
        var pad: UInt8 = 0xEC
        while data.count < dataLength {
            data.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        // Blocks: the first `short` have one data codeword fewer than the rest.
        let short = blocks - total % blocks
        let shortLength = total / blocks
        let divisor = ReedSolomon.divisor(degree: eccLength)
        var split: [[UInt8]] = []
        var start = 0
        for block in 0..<blocks {
            let count = shortLength - eccLength + (block < short ? 0 : 1)
            let chunk = Array(data[start..<start + count])
            start += count
            split.append(chunk + (block < short ? [0] : []) + ReedSolomon.remainder(chunk, divisor: divisor))
        }
        var result: [UInt8] = []
        for i in 0..<split[0].count {
            for (index, block) in split.enumerated() where i != shortLength - eccLength || index >= short { result.append(block[i]) }
        }
        return result
    }

    // MARK: - Drawing

    private static func drawPatterns(version: Int, size: Int, modules: inout [[Bool]], reserved: inout [[Bool]]) {
        func set(_ x: Int, _ y: Int, _ dark: Bool) {
            modules[y][x] = dark
            reserved[y][x] = true
        }
        for i in 0..<size {
            set(6, i, i % 2 == 0)
            set(i, 6, i % 2 == 0)
        }
        for (cx, cy) in [(3, 3), (size - 4, 3), (3, size - 4)] {
            for dy in -4...4 {
                for dx in -4...4 where (0..<size).contains(cx + dx) && (0..<size).contains(cy + dy) {
                    let distance = max(abs(dx), abs(dy))
                    set(cx + dx, cy + dy, distance != 2 && distance != 4)
                }
            }
        }
        let centres = alignment[version - 1]
        for (i, cx) in centres.enumerated() {
            for (j, cy) in centres.enumerated() {
                let last = centres.count - 1
                if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) { continue }
                for dy in -2...2 { for dx in -2...2 { set(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1) } }
            }
        }
        drawFormat(mask: 0, size: size, modules: &modules)  // reserves the format areas; redrawn per mask
        for (x, y) in formatPositions(size: size).flatMap({ $0 }) + [(8, size - 8)] { reserved[y][x] = true }
        if version >= 7 {
            var remainder = version
            for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
            let bits = version << 12 | remainder
            for i in 0..<18 {
                let dark = (bits >> i) & 1 == 1
                let (a, b) = (size - 11 + i % 3, i / 3)
                set(a, b, dark)
                set(b, a, dark)
            }
        }
    }

    /// Where the 15 format bits go, bit 0 first, in each of the two copies.
    private static func formatPositions(size: Int) -> [[(Int, Int)]] {
        var first: [(Int, Int)] = (0...5).map { (8, $0) } + [(8, 7), (8, 8), (7, 8)]
        first += (9..<15).map { (14 - $0, 8) }
        let second: [(Int, Int)] = (0..<8).map { (size - 1 - $0, 8) } + (8..<15).map { (8, size - 15 + $0) }
        return [first, second]
    }

    /// Level M (bits 00) and the mask, with their BCH code, in both places, and the always-dark module.
    private static func drawFormat(mask: Int, size: Int, modules: inout [[Bool]]) {
        let data = 0b00 << 3 | mask
        var remainder = data
        for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
        let bits = (data << 10 | remainder) ^ 0x5412
        for copy in formatPositions(size: size) {
            for (i, (x, y)) in copy.enumerated() { modules[y][x] = (bits >> i) & 1 == 1 }
        }
        modules[size - 8][8] = true
    }

    /// The codewords' bits up and down two-module columns from the right, skipping reserved modules.
    private static func place(_ codewords: [UInt8], modules: inout [[Bool]], reserved: [[Bool]]) {
        let size = modules.count
        var index = 0
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            for vertical in 0..<size {
                for offset in 0..<2 {
                    let x = right - offset
                    let upward = (right + 1) & 2 == 0
                    let y = upward ? size - 1 - vertical : vertical
                    guard !reserved[y][x], index < codewords.count * 8 else { continue }
                    modules[y][x] = (codewords[index >> 3] >> (7 - UInt8(index & 7))) & 1 == 1
                    index += 1
                }
            }
            right -= 2
        }
    }

    private static func apply(mask: Int, to modules: inout [[Bool]], reserved: [[Bool]]) {
        for y in 0..<modules.count {
            for x in 0..<modules.count where !reserved[y][x] {
                let invert =
                    switch mask {
                    case 0: (x + y) % 2 == 0
                    case 1: y % 2 == 0
                    case 2: x % 3 == 0
                    case 3: (x + y) % 3 == 0
                    case 4: (x / 3 + y / 2) % 2 == 0
                    case 5: x * y % 2 + x * y % 3 == 0
                    case 6: (x * y % 2 + x * y % 3) % 2 == 0
                    default: ((x + y) % 2 + x * y % 3) % 2 == 0
                    }
                if invert { modules[y][x].toggle() }
            }
        }
    }

    /// The standard's penalty: runs of five or more alike in a row or column, 2×2 blocks alike,
    /// finder-like patterns, and the share of dark modules away from half.
    private static func penalty(_ modules: [[Bool]]) -> Int {
        let size = modules.count
        var score = 0
        let columns = (0..<size).map { x in modules.map { $0[x] } }
        for line in modules + columns {
            var run = 1
            for i in 1..<size {
                if line[i] == line[i - 1] {
                    run += 1
                } else {
                    if run >= 5 { score += run - 2 }
                    run = 1
                }
            }
            if run >= 5 { score += run - 2 }
            let pattern: [Bool] = [true, false, true, true, true, false, true]
            for i in 0...(size - 7) where Array(line[i..<i + 7]) == pattern {
                let before = i >= 4 && !line[i - 4..<i].contains(true)
                let after = i + 11 <= size && !line[i + 7..<i + 11].contains(true)
                if before || after { score += 40 }
            }
        }
        for y in 0..<size - 1 {
            for x in 0..<size - 1
            where modules[y][x] == modules[y][x + 1] && modules[y][x] == modules[y + 1][x] && modules[y][x] == modules[y + 1][x + 1] {
                score += 3
            }
        }
        let dark = modules.reduce(0) { $0 + $1.filter { $0 }.count }
        let total = size * size
        score += (abs(dark * 20 - total * 10) + total - 1) / total * 10
        return score
    }
}

/// Reed–Solomon error correction over GF(2^8) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1.
enum ReedSolomon {
    static func multiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
        var z = 0
        for i in (0..<8).reversed() {
            z = (z << 1) ^ ((z >> 7) * 0x11D)
            z ^= Int((y >> UInt8(i)) & 1) * Int(x)
        }
        return UInt8(z)
    }

    /// The generator polynomial of this degree, highest coefficient first (its leading 1 left out).
    static func divisor(degree: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: degree)
        result[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for j in 0..<degree {
                result[j] = multiply(result[j], root)
                if j + 1 < degree { result[j] ^= result[j + 1] }
            }
            root = multiply(root, 0x02)
        }
        return result
    }

    static func remainder(_ data: [UInt8], divisor: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: divisor.count)
        for byte in data {
            let factor = byte ^ result.removeFirst()
            result.append(0)
            for i in 0..<result.count { result[i] ^= multiply(divisor[i], factor) }
        }
        return result
    }
}
