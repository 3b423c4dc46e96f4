import xml.etree.ElementTree as ET
from xml.dom import minidom

import defusedxml.ElementTree as SafeET


def parse(text, path):
    # ruleid: psr.python.xml-untrusted-parse
    root = ET.fromstring(text)
    # ruleid: psr.python.xml-untrusted-parse
    tree = ET.parse(path)
    # ruleid: psr.python.xml-untrusted-parse
    doc = minidom.parseString(text)
    # ok: psr.python.xml-untrusted-parse
    safe = SafeET.fromstring(text)
    # ok: psr.python.xml-untrusted-parse
    out = ET.tostring(root)
    return tree, doc, safe, out
