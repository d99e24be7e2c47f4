"""Sentinel-2 MSI band metadata shared by datasets, transforms and dataset writers."""

#: The 13 bands in ESA order.
S2_BANDS = ('B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B10', 'B11', 'B12')
#: Ground sampling distance of each band in metres.
S2_GSD = dict(B01=60, B02=10, B03=10, B04=10, B05=20, B06=20, B07=20, B08=10, B8A=20, B09=60, B10=60,
              B11=20, B12=20)
