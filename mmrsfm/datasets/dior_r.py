"""DIOR-R (Cheng et al., "Anchor-free Oriented Proposal Generator for Object Detection", TGRS 2022):
the oriented-box annotations of DIOR (Li et al., ISPRS J. 2020), 23,463 images of 800 x 800 px.

mmrotate's ``DIORDataset`` reads the release as it is (``JPEGImages-trainval/``, ``JPEGImages-test/``,
``Annotations/Oriented Bounding Boxes/*.xml``, ``ImageSets/Main/{train,val,test}.txt``), so mmrsfm
needs no dataset class for it; these are the facts the synthetic writer and tests share with it.
"""

#: The 20 DIOR-R categories in mmrotate ``DIORDataset``'s order (its label indices), spelled as it
#: names them: the xml ``name`` lower-cased.
DIOR_R_CLASSES = ('airplane', 'airport', 'baseballfield', 'basketballcourt', 'bridge', 'chimney',
                  'expressway-service-area', 'expressway-toll-station', 'dam', 'golffield',
                  'groundtrackfield', 'harbor', 'overpass', 'ship', 'stadium', 'storagetank',
                  'tenniscourt', 'trainstation', 'vehicle', 'windmill')
#: The two categories whose xml ``name`` in the released annotation files is not lower case.
DIOR_R_XML_NAMES = {'expressway-service-area': 'Expressway-Service-area',
                    'expressway-toll-station': 'Expressway-toll-station'}
