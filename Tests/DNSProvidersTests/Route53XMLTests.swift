import Testing

@testable import DNSProviders

@Suite struct Route53XMLTests {
    @Test func decodesNamedAndNumericEntities() {
        #expect(Route53XML.decode("&quot;abc&quot;") == "\"abc\"")
        #expect(Route53XML.decode("&#34;abc&#34;") == "\"abc\"")
        #expect(Route53XML.decode("&#x22;abc&#x22;") == "\"abc\"")
        #expect(Route53XML.decode("a &amp; b &lt;c&gt; &apos;d&apos;") == "a & b <c> 'd'")
        // Decoded once: "&amp;quot;" is the text "&quot;", not a quote.
        #expect(Route53XML.decode("&amp;quot;") == "&quot;")
        #expect(Route53XML.decode("&#xe9;t&#233;") == "été")
        // Unknown entities and a lone ampersand stay as they were.
        #expect(Route53XML.decode("&bogus; x") == "&bogus; x")
        #expect(Route53XML.decode("a & b") == "a & b")
        #expect(Route53XML.decode("plain") == "plain")
    }

    @Test func elementsAreFoundInOrderWithoutMatchingLongerTags() {
        let text = """
            <ListResourceRecordSetsResponse><ResourceRecordSets>\
            <ResourceRecordSet><Name>_acme-challenge.example.com.</Name><Type>TXT</Type><TTL>300</TTL>\
            <ResourceRecords><ResourceRecord><Value>"keep-me"</Value></ResourceRecord>\
            <ResourceRecord><Value>&quot;abc&quot;</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>\
            <ResourceRecordSet><Name>www.example.com.</Name><Type>A</Type></ResourceRecordSet>\
            </ResourceRecordSets><IsTruncated>false</IsTruncated></ListResourceRecordSetsResponse>
            """
        let sets = Route53XML.elements("ResourceRecordSet", in: text[...])
        #expect(sets.count == 2)
        #expect(Route53XML.value("Name", in: sets[0]) == "_acme-challenge.example.com.")
        #expect(Route53XML.value("TTL", in: sets[0]) == "300")
        #expect(Route53XML.elements("Value", in: sets[0]).map(Route53XML.decode) == ["\"keep-me\"", "\"abc\""])
        #expect(Route53XML.value("Type", in: sets[1]) == "A")
        #expect(Route53XML.elements("ResourceRecordSets", in: text[...]).count == 1)
        #expect(Route53XML.value("Missing", in: text[...]) == nil)
        // An element that is opened but never closed is not returned.
        #expect(Route53XML.elements("Id", in: "<Id>half"[...]) == [])
    }

    @Test func changeRequestEscapesValuesAndNames() {
        let body = Route53XML.changeRequest(
            action: "UPSERT", name: "_acme-challenge.example.com.", ttl: 120,
            values: ["\"keep-me\"", "\"a<b>&c\""])
        #expect(body.hasPrefix(#"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"))
        #expect(body.contains(#"xmlns="https://route53.amazonaws.com/doc/2013-04-01/""#))
        #expect(body.contains("<Action>UPSERT</Action>"))
        #expect(body.contains("<Name>_acme-challenge.example.com.</Name><Type>TXT</Type><TTL>120</TTL>"))
        #expect(
            body.contains(
                "<ResourceRecords><ResourceRecord><Value>&quot;keep-me&quot;</Value></ResourceRecord>"
                    + "<ResourceRecord><Value>&quot;a&lt;b&gt;&amp;c&quot;</Value></ResourceRecord></ResourceRecords>"))
        #expect(body.split(separator: "\n").count == 2, "one line after the XML declaration")
        // What is written reads back as the same values.
        let set = Route53XML.elements("ResourceRecordSet", in: body[...])
        #expect(set.count == 1)
        #expect(Route53XML.elements("Value", in: set[0]).map(Route53XML.decode) == ["\"keep-me\"", "\"a<b>&c\""])
    }
}
