/// Published test vectors from RFC 7515 (JSON Web Signature), Appendix A.2 (RS256) and A.3 (ES256), copied from
/// the RFC's text: the JWK members as printed, the byte arrays as the RFC lists them in JSON array notation, and the
/// base64url strings as they appear in the RFC's compact and JSON serializations.
enum RFC7515Vectors {
    /// `{"alg":"RS256"}`, the A.2 JWS Protected Header.
    static let rs256ProtectedB64 = "eyJhbGciOiJSUzI1NiJ9"
    /// `{"alg":"ES256"}`, the A.3 JWS Protected Header.
    static let es256ProtectedB64 = "eyJhbGciOiJFUzI1NiJ9"

    /// The JWS Payload shared by A.1 to A.3: `{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}`.
    static let payload: [UInt8] = [
        123, 34, 105, 115, 115, 34, 58, 34, 106, 111, 101, 34, 44, 13, 10,
        32, 34, 101, 120, 112, 34, 58, 49, 51, 48, 48, 56, 49, 57, 51,
        56, 48, 44, 13, 10, 32, 34, 104, 116, 116, 112, 58, 47, 47, 101,
        120, 97, 109, 112, 108, 101, 46, 99, 111, 109, 47, 105, 115, 95, 114,
        111, 111, 116, 34, 58, 116, 114, 117, 101, 125,
    ]
    static let payloadB64 = [
        "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leG",
        "FtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ",
    ].joined()

    // A.2: RSA key (2048 bits) and the RSASSA-PKCS1-v1_5 SHA-256 signature over the A.2 JWS Signing Input.
    static let rsaN = [
        "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx",
        "HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMs",
        "D1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSH",
        "SXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdV",
        "MTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8",
        "NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
    ].joined()
    static let rsaD = [
        "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97I",
        "jlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0",
        "BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn",
        "439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYT",
        "CBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLh",
        "BOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",
    ].joined()
    static let rsaP = [
        "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdi",
        "YrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPG",
        "BY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
    ].joined()
    static let rsaQ = [
        "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxa",
        "ewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA",
        "-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",
    ].joined()
    static let rsaDP = [
        "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QC",
        "LdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb3",
        "4MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
    ].joined()
    static let rsaDQ = [
        "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7",
        "I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyN",
        "lxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
    ].joined()
    static let rsaQI = [
        "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy",
        "26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW",
        "0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U",
    ].joined()
    static let rs256Signature: [UInt8] = [
        112, 46, 33, 137, 67, 232, 143, 209, 30, 181, 216, 45, 191, 120, 69,
        243, 65, 6, 174, 27, 129, 255, 247, 115, 17, 22, 173, 209, 113, 125,
        131, 101, 109, 66, 10, 253, 60, 150, 238, 221, 115, 162, 102, 62, 81,
        102, 104, 123, 0, 11, 135, 34, 110, 1, 135, 237, 16, 115, 249, 69,
        229, 130, 173, 252, 239, 22, 216, 90, 121, 142, 232, 198, 109, 219, 61,
        184, 151, 91, 23, 208, 148, 2, 190, 237, 213, 217, 217, 112, 7, 16,
        141, 178, 129, 96, 213, 248, 4, 12, 167, 68, 87, 98, 184, 31, 190,
        127, 249, 217, 46, 10, 231, 111, 36, 242, 91, 51, 187, 230, 244, 74,
        230, 30, 177, 4, 10, 203, 32, 4, 77, 62, 249, 18, 142, 212, 1,
        48, 121, 91, 212, 189, 59, 65, 238, 202, 208, 102, 171, 101, 25, 129,
        253, 228, 141, 247, 127, 55, 45, 195, 139, 159, 175, 221, 59, 239, 177,
        139, 93, 163, 204, 60, 46, 176, 47, 158, 58, 65, 214, 18, 202, 173,
        21, 145, 18, 115, 160, 95, 35, 185, 232, 56, 250, 175, 132, 157, 105,
        132, 41, 239, 90, 30, 136, 121, 130, 54, 195, 212, 14, 96, 69, 34,
        165, 68, 200, 242, 122, 122, 45, 184, 6, 99, 209, 108, 247, 202, 234,
        86, 222, 64, 92, 178, 33, 90, 69, 178, 194, 85, 102, 181, 90, 193,
        167, 72, 160, 112, 223, 200, 163, 42, 70, 149, 67, 208, 25, 238, 251,
        71,
    ]
    static let rs256SignatureB64 = [
        "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZ",
        "mh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjb",
        "KBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHl",
        "b1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZES",
        "c6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AX",
        "LIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw",
    ].joined()
    // A.3: P-256 key and the ECDSA signature (R || S, 64 bytes) over the A.3 JWS Signing Input.
    static let ecX = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
    static let ecY = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
    static let ecD = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"

    static let es256Signature: [UInt8] = [
        14, 209, 33, 83, 121, 99, 108, 72, 60, 47, 127, 21, 88, 7, 212, 2,
        163, 178, 40, 3, 58, 249, 124, 126, 23, 129, 154, 195, 22, 158, 166, 101,
        197, 10, 7, 211, 140, 60, 112, 229, 216, 241, 45, 175, 8, 74, 84, 128,
        166, 101, 144, 197, 242, 147, 80, 154, 143, 63, 127, 138, 131, 163, 84, 213,
    ]
    static let es256SignatureB64 = [
        "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmX",
        "FCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
    ].joined()

    /// The A.2 private JWK.
    static var rsaPrivateJWK: String {
        #"{"kty":"RSA","n":"\#(rsaN)","e":"AQAB","d":"\#(rsaD)","p":"\#(rsaP)","q":"\#(rsaQ)","dp":"\#(rsaDP)","dq":"\#(rsaDQ)","qi":"\#(rsaQI)"}"#
    }

    /// The A.3 private JWK.
    static var ecPrivateJWK: String {
        #"{"kty":"EC","crv":"P-256","x":"\#(ecX)","y":"\#(ecY)","d":"\#(ecD)"}"#
    }

    /// ASCII(BASE64URL(UTF8(JWS Protected Header)) || '.' || BASE64URL(JWS Payload)).
    static func signingInput(protectedB64: String) -> [UInt8] {
        Array("\(protectedB64).\(payloadB64)".utf8)
    }
}
