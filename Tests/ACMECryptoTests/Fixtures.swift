// Generated once with Python `cryptography` 48 (test-only keys, never used elsewhere).
// Thumbprints were computed independently in Python (RFC 7638).
enum Fixtures {
    static let rsaPrivateJWK =
        #"{"kty":"RSA","n":"voFIf4iCAyrASLeg9o68R6SB4org0YwUinOnz91ky6PnLBQyiKGrItIZ1YGksQAC0-idOt9HhEsnmOxCpfS1Vn9SSXFZrdqhXKY6cKyKUzHYJa228hEgY1pZ-6dH-JLsRLEDL41QvANMC8m6lbHAwojOT34WR1MD5X9DcBY57sHJyroswYfnMSM9l5NGVx5t8xGFeJ4zPWBuzI8pYoi8bUhDvTmMtnsjolW8c_Vh4fYglZpI9x0-CwU81GHK1V2cFduwXxrKTXJM39aCz8wGPftERmvl8hUv4YRJ7p84tLZn1gDyIgxOJtPu4uVYSucbtVoBX3UR2Z-mPazT4MW1hQ","e":"AQAB","d":"pwUjpx5AM6MOuSQMbQGau23xHK0XiqApKTmSWKvB7B1VOqVeGmwU88ex-wySOw45M5CEgcOx02ctF1dhUFdz-ij7wvZIjUB2cTX2eGDNVz-xXckoYxIvGkFx-BPNsFo8IDYtsUo0KNss7WG2pfkxsVx42hxcFp4HBWc41UVR9xylNNSTYjZ71s6CIJYPi6PkXhXWnnSUIRGbLXf3rw4XI4bHlEUowQf2jFYZR7uEaMl50ec5ky8m_j0caBZB6MHkW1icFsd5O8kdjozej4Oj7sTHU9-pWVQCgnLROKvE_WFLG42AzLWUPoDOLYu7KkOvzpP79HVeMQq1OLm46qyB","p":"38eHYtk_QlRdoDd8UYG5aWnLuPu7jIFNF6R8qntupuRYCh_YE-8EMT6vaRqwUj6isvO-8fbwxpglF9qSwyxHhy768LCryByhQPlHomfemQcTVam9ZQ6iTLybWGjnyCOGbj2cJc7p8Vlw5Ir2W0AJ9dMdIZAwl4YrwUWekd85CM0","q":"2e9EBPlhYaKGGwrxvGoDUJEn6JRgRX9kf24R8zI6iCI3CPSkju4HHG_7QkwHUeJYYANjhr2NeYcWRG4M4OJ6rj6vfOdmYfxvEHPduaBEItHQTxKPNn72J0IK6kt_Ddlhla49kyWFitv-fCINQSyUchhuSOWTEGV9AdEpUNyZP5k","dp":"AVMpFgi7OyVMuJobflAKTPl3X0z-O0K4th8fLdM1QH-xlb3ChbuwhqocV770tEfypqSSyNPxcPuNnKqKm-UzNzWr_qjNG44v1jajme6LftRv5N3wZRzFETc8pDVayfCL5zMuLXsgH3GsHW5FLx0d8fqh_YThBMSila5X1f1AVTE","dq":"UuDN8kJQSUwASep4kdmTFyGMlsNOdT-EHX3jb6QLZFf2q_41UnGs3KCtYcH-CqLUTvca81PEqJG54x4i4abfVsJaBFsPsXXJWu1lRcFwB_nYiSmasvPHcpiIBB_f2olvtfeETSA4z9znw5dDiSSF83nc_vXnXpXp2zYKy0iJMwk","qi":"hgWJbKuv9pZdMDsLAP3pkdyk-iuoXLD4NzC8pIpW8g06U2u6A3BLB6PiOnvGJ64CCRf19ZVmGjfSgoMGmSCUG8FCmoKwG_3eQlrtIQ34xJNtHIT2MGa8LNMD5wgXysrJxYcPHLUCNbOnRUiEx3y-uWQmnmyo2z57D6yEQFSnH5Y"}"#
    static let rsaPrivateJWKThumbprint = "Ivh5d0pls_KhYrQfIcdh_4YiCzMp7hhSFTlGnTaFVrU"
    static let rsaPKCS1PEM = """
        -----BEGIN RSA PRIVATE KEY-----
        MIIEowIBAAKCAQEAvoFIf4iCAyrASLeg9o68R6SB4org0YwUinOnz91ky6PnLBQy
        iKGrItIZ1YGksQAC0+idOt9HhEsnmOxCpfS1Vn9SSXFZrdqhXKY6cKyKUzHYJa22
        8hEgY1pZ+6dH+JLsRLEDL41QvANMC8m6lbHAwojOT34WR1MD5X9DcBY57sHJyros
        wYfnMSM9l5NGVx5t8xGFeJ4zPWBuzI8pYoi8bUhDvTmMtnsjolW8c/Vh4fYglZpI
        9x0+CwU81GHK1V2cFduwXxrKTXJM39aCz8wGPftERmvl8hUv4YRJ7p84tLZn1gDy
        IgxOJtPu4uVYSucbtVoBX3UR2Z+mPazT4MW1hQIDAQABAoIBAACnBSOnHkAzow65
        JAxtAZq7bfEcrReKoCkpOZJYq8HsHVU6pV4abBTzx7H7DJI7DjkzkISBw7HTZy0X
        V2FQV3P6KPvC9kiNQHZxNfZ4YM1XP7FdyShjEi8aQXH4E82wWjwgNi2xSjQo2yzt
        Ybal+TGxXHjaHFwWngcFZzjVRVH3HKU01JNiNnvWzoIglg+Lo+ReFdaedJQhEZst
        d/evDhcjhseURSjBB/aMVhlHu4RoyXnR5zmTLyb+PRxoFkHoweRbWJwWx3k7yR2O
        jN6Pg6PuxMdT36lZVAKCctE4q8T9YUsbjYDMtZQ+gM4ti7sqQ6/Ok/v0dV4xCrU4
        ubjqrIECgYEA38eHYtk/QlRdoDd8UYG5aWnLuPu7jIFNF6R8qntupuRYCh/YE+8E
        MT6vaRqwUj6isvO+8fbwxpglF9qSwyxHhy768LCryByhQPlHomfemQcTVam9ZQ6i
        TLybWGjnyCOGbj2cJc7p8Vlw5Ir2W0AJ9dMdIZAwl4YrwUWekd85CM0CgYEA2e9E
        BPlhYaKGGwrxvGoDUJEn6JRgRX9kf24R8zI6iCI3CPSkju4HHG/7QkwHUeJYYANj
        hr2NeYcWRG4M4OJ6rj6vfOdmYfxvEHPduaBEItHQTxKPNn72J0IK6kt/Ddlhla49
        kyWFitv+fCINQSyUchhuSOWTEGV9AdEpUNyZP5kCgYABUykWCLs7JUy4mht+UApM
        +XdfTP47Qri2Hx8t0zVAf7GVvcKFu7CGqhxXvvS0R/KmpJLI0/Fw+42cqoqb5TM3
        Nav+qM0bji/WNqOZ7ot+1G/k3fBlHMURNzykNVrJ8IvnMy4teyAfcawdbkUvHR3x
        +qH9hOEExKKVrlfV/UBVMQKBgFLgzfJCUElMAEnqeJHZkxchjJbDTnU/hB1942+k
        C2RX9qv+NVJxrNygrWHB/gqi1E73GvNTxKiRueMeIuGm31bCWgRbD7F1yVrtZUXB
        cAf52IkpmrLzx3KYiAQf39qJb7X3hE0gOM/c58OXQ4kkhfN53P71516V6ds2CstI
        iTMJAoGBAIYFiWyrr/aWXTA7CwD96ZHcpPorqFyw+DcwvKSKVvINOlNrugNwSwej
        4jp7xieuAgkX9fWVZho30oKDBpkglBvBQpqCsBv93kJa7SEN+MSTbRyE9jBmvCzT
        A+cIF8rKycWHDxy1AjWzp0VIhMd8vrlkJp5sqNs+ew+shEBUpx+W
        -----END RSA PRIVATE KEY-----
        """
    static let ecPrivateJWK =
        #"{"kty":"EC","crv":"P-256","x":"_9Q3HPGqul31-s1uGj23JtK4QL1dqqOHvKNg-kS48v8","y":"3fu-WqQsaaTXxnXNfeAcqk2ZIZXrLPd_We1RHmKMNhE","d":"kQO2zFrohggZnxtQM-n7yRdhh32Ntd1ygAH4NLRwFyA"}"#
    static let ecPrivateJWKThumbprint = "MPLpIuAxS-AbmB4UIuZojwECUlA6g1RVhCp9Nr1urfU"
    static let ecSEC1PEM = """
        -----BEGIN EC PRIVATE KEY-----
        MHcCAQEEIJEDtsxa6IYIGZ8bUDPp+8kXYYd9jbXdcoAB+DS0cBcgoAoGCCqGSM49
        AwEHoUQDQgAE/9Q3HPGqul31+s1uGj23JtK4QL1dqqOHvKNg+kS48v/d+75apCxp
        pNfGdc194ByqTZkhless939Z7VEeYow2EQ==
        -----END EC PRIVATE KEY-----
        """
}
