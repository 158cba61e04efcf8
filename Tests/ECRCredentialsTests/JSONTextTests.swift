// JSON string literals written for docker: every text reads back as itself.
import ECRCredentials
import Foundation
import Testing

@Suite struct JSONTextTests {
    @Test(arguments: ["", "AWS", "public.ecr.aws", "eyJwYXlsb2FkIjoi" + String(repeating: "QUJD", count: 800) + "==",
                      "quote \" backslash \\ slash /", "line\nbreak\rreturn\ttab", "\u{0}\u{1}\u{1F}\u{7F}", "é ✓ 🐳",
                      "https://123456789012.dkr.ecr.us-west-2.amazonaws.com"])
    func quotedTextReadsBackAsItself(text: String) throws {
        let literal = JSONText.quote(text)
        #expect(try JSONDecoder().decode(String.self, from: Data(literal.utf8)) == text)
        #expect(literal.utf8.allSatisfy { $0 >= 0x20 })
    }

    @Test func escapesAsBefore() {
        #expect(JSONText.quote("plain") == "\"plain\"")
        #expect(JSONText.quote("a\"b\\c\n\u{1}") == #""a\"b\\c\n\u0001""#)
        #expect(JSONText.object(["b": "2", "a": "1"]) == #"{"a":"1","b":"2"}"#)
    }
}
