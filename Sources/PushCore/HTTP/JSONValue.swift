import Foundation
import JSONText

/// A JSON document, for request bodies and for reading services' answers.
///
/// Services answer with loosely typed codes (`"code": "0"` as often as `0`), so the
/// accessors are forgiving: ``int`` reads numbers and numeric strings alike.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public subscript(index: Int) -> JSONValue? {
        if case .array(let array) = self, array.indices.contains(index) { return array[index] }
        return nil
    }

    public var int: Int? {
        switch self {
        case .int(let value): return value
        case .double(let value) where value.rounded() == value && abs(value) < 1e15: return Int(value)
        case .string(let value): return Int(value.trimmingWhitespace())
        default: return nil
        }
    }

    public var double: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        case .string(let value): return Double(value)
        default: return nil
        }
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var object: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// The value as short text for an error message: strings bare, anything else as JSON.
    public var text: String {
        switch self {
        case .string(let value): return value
        case .int(let value): return String(value)
        case .bool(let value): return String(value)
        default: return (try? String(decoding: encoded(), as: UTF8.self)) ?? ""
        }
    }

    /// Reads JSON text with our own reader (not `JSONDecoder`, whose first use costs a hook about 0.2 ms).
    /// A whole number written with a fraction (`3.0`) reads as an integer, as `JSONDecoder` read it.
    public static func decode(_ data: Data) -> JSONValue? {
        (try? OrderedJSON.parse(data)).map { JSONValue($0, wholeNumbersAsIntegers: true) }
    }

    /// The same document with its objects as dictionaries (a key given twice: the last one).
    public init(_ json: OrderedJSON, wholeNumbersAsIntegers: Bool = false) {
        switch json {
        case .null: self = .null
        case .bool(let bool): self = .bool(bool)
        case .int(let int): self = .int(int)
        case .double(let double):
            if wholeNumbersAsIntegers, double.rounded() == double, let int = Int(exactly: double) {
                self = .int(int)
            } else {
                self = .double(double)
            }
        case .string(let string): self = .string(string)
        case .array(let array): self = .array(array.map { JSONValue($0, wholeNumbersAsIntegers: wholeNumbersAsIntegers) })
        case .object:
            self = .object(json.dictionary!.mapValues { JSONValue($0, wholeNumbersAsIntegers: wholeNumbersAsIntegers) })
        }
    }

    /// Compact JSON, object keys sorted. Written directly rather than through `JSONEncoder`,
    /// which cost about 50 000 instructions per request body, on every delivery.
    public func encoded() throws -> Data {
        Data(utf8: try ordered().text)
    }

    /// The same document as ``OrderedJSON`` with sorted keys; a number JSON cannot write
    /// (infinite, NaN) is an error, as it is for `JSONEncoder`.
    func ordered() throws -> OrderedJSON {
        switch self {
        case .null: return .null
        case .bool(let value): return .bool(value)
        case .int(let value): return .int(value)
        case .double(let value):
            guard value.isFinite else {
                throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(value) is not a JSON number"))
            }
            return .double(value)
        case .string(let value): return .string(value)
        case .array(let items): return .array(try items.map { try $0.ordered() })
        case .object(let members):
            return .object(try members.sorted { $0.key < $1.key }.map { ($0.key, try $0.value.ordered()) })
        }
    }

    /// Drops `null` members, so optional fields that were not configured are not sent.
    public func compacted() -> JSONValue {
        switch self {
        case .object(let object):
            return .object(object.compactMapValues { $0.isNull ? nil : $0.compacted() })
        case .array(let array):
            return .array(array.map { $0.compacted() })
        default:
            return self
        }
    }
}

extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Every wrong guess costs a thrown DecodingError (with its message formatted), so the
        // likeliest kinds in a service's answer come first: strings, then integers.
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            self = .array(try container.decode([JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension Optional where Wrapped == String {
    /// An optional configuration value as JSON: absent becomes `null` (and is dropped by `compacted()`).
    public var json: JSONValue { map(JSONValue.string) ?? .null }
}
